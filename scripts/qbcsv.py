"""Reading, checking and aggregating qbench CSV files (standard library only).

Shared by scripts/plot.py and scripts/report.py. The columns, their roles, types and units come
from qbench's column table (results/columns.hpp), through scripts/columns.json: the output of
`qbench columns --json`, checked in next to this file and checked against qbench by a test
(columns_test). The column meanings are documented in results/README.md. A results file must have
the columns of schema v1 as first released; columns appended later read blank from older files.

Errors in the input raise InputError with a one-line message that names the file; the scripts
print it and exit with code 2.
"""

import collections
import csv
import json
import math
import os
import statistics


def _load_columns():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "columns.json")
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# file ("results", "timeseries", "calibration") -> {"schema_version": N, "columns": [{"name",
# "role", "type", "unit", "better", "compared", "appended"}, ...]}, in file order; and "ranking":
# how a question is judged (results/ranking.hpp), read below.
_JSON = _load_columns()
RANKING = _JSON.pop("ranking")
COLUMNS = _JSON
_RESULTS = COLUMNS["results"]["columns"]
_TIMESERIES = COLUMNS["timeseries"]["columns"]


def _names(columns, keep=lambda c: True):
    return tuple(c["name"] for c in columns if keep(c))


SCHEMA_VERSION = str(COLUMNS["results"]["schema_version"])
# Schema v2 renamed some columns of v1 ("formerly": the v1 name); a v1 file is read as v2.
V1_NAMES = {kind: {c["formerly"]: c["name"] for c in table["columns"] if "formerly" in c}
            for kind, table in (("results", COLUMNS["results"]),
                                ("time-series", COLUMNS["timeseries"]))}

# Columns every results file has (schema v1 as first released), and the numeric ones; blank
# means "not applicable" and reads as None.
RESULT_COLUMNS = _names(_RESULTS, lambda c: not c["appended"])
RESULT_NUMERIC = _names(_RESULTS, lambda c: c["type"] == "number")
# Configuration keys: rows that differ in one are different configurations.
KEY_COLUMNS = _names(_RESULTS, lambda c: c["role"] == "key")

TIMESERIES_COLUMNS = _names(_TIMESERIES, lambda c: not c["appended"])
TIMESERIES_NUMERIC = _names(_TIMESERIES, lambda c: c["type"] == "number")

# The unit of each column of each file ("s", "ns", "bytes", "1/s", ...; "" for none).
UNITS = {file: {c["name"]: c["unit"] for c in table["columns"]}
         for file, table in COLUMNS.items()}
# Each results column's better direction: "higher", "lower", or "" (not a metric).
BETTER = {c["name"]: c["better"] for c in _RESULTS}

# How these scripts group rows: by queue, workload and shape (producers x consumers), then by
# every other configuration key.
SHAPE_COLUMNS = ("queue", "workload", "producers", "consumers")

# Fields that must not be blank on any results row.
RESULT_NONBLANK = SHAPE_COLUMNS + ("rep", "verdict")
TIMESERIES_NONBLANK = SHAPE_COLUMNS + ("rep", "t_s")

# Columns that identify a machine + build: files from several of them concatenate.
CONTEXT_COLUMNS = ("host", "git_sha", "cpu_model")

# Configuration keys beyond queue/workload/shape. Rows that differ in any of them are never
# aggregated together; when one of them varies inside a figure, it appears in the line labels.
VARIANT_COLUMNS = tuple(c for c in KEY_COLUMNS if c not in SHAPE_COLUMNS)

# Short names used in labels for some variant columns; the others go by their own name.
VARIANT_NAMES = {
    "capacity": "cap", "rate_per_s": "rate", "peak_rate_per_s": "peak", "burst_s": "burst",
    "period_s": "period", "service": "work", "service_s": "work_time", "service_mode": "work_mode", "backpressure": "bp",
    "push_timeout_s": "timeout", "duration_s": "d", "items_target": "n",
    "poll_interval_s": "poll", "nodes_per_root": "nodes", "latency_recording": "latency",
    "pinning": "pin",
}


def variant_name(column):
    """The short name of a variant column in labels."""
    return VARIANT_NAMES.get(column, column)


class InputError(Exception):
    """A problem with an input file; the message is one line and names the file."""


# --------------------------------------------------------------------------------------------
# Reading


def save_figure(fig, path):
    """Writes a matplotlib figure as PNG with the scripts' common margins and prints its path;
    a path that cannot be written is an InputError (one line, exit 2)."""
    try:
        fig.savefig(path, bbox_inches="tight", pad_inches=0.15)
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror})")
    print(path, flush=True)


def _parse_number(text, path, line, column):
    if text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}: line {line}: column {column}: {text!r} is not a number")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _looks_like(header, columns):
    return all(c in header for c in columns)


# The columns one kind of file has and the other has not: they tell the two apart.
_TIMESERIES_ONLY = tuple(c for c in TIMESERIES_COLUMNS if c not in _names(_RESULTS))
_RESULTS_ONLY = tuple(c for c in RESULT_COLUMNS if c not in TIMESERIES_COLUMNS)


def read_table(path, required, numeric, nonblank, kind):
    """Reads one qbench CSV file of the given kind ('results' or 'time-series').

    Returns a list of dicts (column -> str, or number/None for numeric columns) with the extra
    keys '_file' and '_line'. Raises InputError on anything but a schema v1 file holding the
    required columns.
    """
    try:
        with open(path, newline="", encoding="utf-8") as f:
            text_rows = list(csv.reader(f))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file")
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, not a CSV file")
    except PermissionError:
        raise InputError(f"{path}: permission denied")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text CSV file (not UTF-8)")
    except csv.Error as e:
        raise InputError(f"{path}: not a valid CSV file ({e})")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror or e})")

    if not text_rows or not any(text_rows):
        raise InputError(f"{path}: empty file (no header, no rows)")
    header = [h.strip() for h in text_rows[0]]
    if header and header[0].startswith("\ufeff"):
        header[0] = header[0][1:]
    if not header or header[0] != "schema_version":
        first = header[0] if header else ""
        raise InputError(
            f"{path}: not a qbench {kind} CSV (its header starts with {first[:40]!r}, "
            f"expected 'schema_version')")
    # The other kind of file, in either schema version.
    as_kind = {k: [V1_NAMES[k].get(h, h) for h in header] for k in V1_NAMES}
    if kind == "results" and _looks_like(as_kind["time-series"], _TIMESERIES_ONLY):
        raise InputError(f"{path}: this is a time-series file, not a results file "
                         f"(pass it with --timeseries)")
    if kind == "time-series" and _looks_like(as_kind["results"], _RESULTS_ONLY):
        raise InputError(f"{path}: this is a results file, not a time-series file "
                         f"(pass it as a positional argument)")
    # A v1 file: its renamed columns under their v2 names; its rows must say 1.
    renamed = V1_NAMES[kind]
    file_version = SCHEMA_VERSION
    if any(h in renamed for h in header):
        if any(h in renamed.values() for h in header):
            raise InputError(f"{path}: a header with both v1 and v2 column names "
                             f"({', '.join(h for h in header if h in renamed)})")
        header = as_kind[kind]
        file_version = "1"
    missing = [c for c in required if c not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise InputError(f"{path}: missing required column{plural} {', '.join(missing)} "
                         f"(not a qbench schema v{SCHEMA_VERSION} {kind} file?)")
    index = {name: i for i, name in enumerate(header)}

    rows = []
    for line_no, fields in enumerate(text_rows[1:], start=2):
        if not fields or all(x == "" for x in fields):
            continue  # blank line
        if [renamed.get(x.strip(), x.strip()) for x in fields] == header:
            continue  # a repeated header: files joined with `cat`
        if fields[0] != file_version:
            raise InputError(f"{path}: line {line_no}: schema_version {fields[0][:20]!r} under "
                             f"a schema v{file_version} header; these scripts read schema "
                             f"versions 1 and {SCHEMA_VERSION}")
        fields = [SCHEMA_VERSION] + fields[1:]  # read as the current schema
        if len(fields) != len(header):
            raise InputError(f"{path}: line {line_no}: {len(fields)} fields, "
                             f"the header has {len(header)}")
        row = {name: fields[i] for name, i in index.items()}
        row["_raw"] = dict(row)
        for column in numeric:
            if column in row:  # a column appended later is absent from an older file
                row[column] = _parse_number(row[column], path, line_no, column)
        for column in nonblank:
            if row[column] is None or row[column] == "":
                raise InputError(f"{path}: line {line_no}: column {column} is blank")
        row["_file"] = path
        row["_line"] = line_no
        rows.append(row)
    return rows


def load_results(paths):
    """All rows of the given results files, in order, with derived columns added."""
    rows = []
    for path in paths:
        file_rows = read_table(path, RESULT_COLUMNS, RESULT_NUMERIC, RESULT_NONBLANK, "results")
        if not file_rows:
            raise InputError(f"{path}: no rows (only a header)")
        rows.extend(file_rows)
    for r in rows:
        for c in _RESULTS:  # columns appended after v1's first release, absent from older files
            r.setdefault(c["name"], None if c["type"] == "number" else "")
        r["refused"] = (r["rejected"] or 0) + (r["dropped"] or 0)
        consumed = r["consumed"]
        for column, derived in (("wakeups", "wakeups_per_item"),
                                ("wasted_wakeups", "wasted_wakeups_per_item")):
            value = r[column]
            r[derived] = value / consumed if value is not None and consumed else None
    return rows


def parse_more_columns(rows, numeric=(), text=(), required=True):
    """Reads further columns of rows from load_results or load_timeseries, beyond the ones
    those parse: `numeric` ones become numbers (blank -> None), `text` ones stay strings.

    A column missing from a row's file raises InputError naming the file when `required`; when
    not required it reads as None (numeric) or '' (text), like a blank field. A field that is
    not a number raises InputError naming the file, line and column.
    """
    for r in rows:
        raw = r["_raw"]
        for column in tuple(numeric) + tuple(text):
            if column not in raw:
                if required:
                    raise InputError(f"{r['_file']}: missing required column {column} "
                                     f"(not a qbench schema v{SCHEMA_VERSION} file from a qbench "
                                     f"that writes it?)")
                r[column] = None if column in numeric else ""
            elif column in numeric:
                r[column] = _parse_number(raw[column], r["_file"], r["_line"], column)
            else:
                r[column] = raw[column]
    return rows


def load_timeseries(paths):
    rows = []
    for path in paths:
        file_rows = read_table(path, TIMESERIES_COLUMNS, TIMESERIES_NUMERIC,
                               TIMESERIES_NONBLANK, "time-series")
        if not file_rows:
            raise InputError(f"{path}: no rows (only a header)")
        rows.extend(file_rows)
    return rows


# --------------------------------------------------------------------------------------------
# Selecting rows


def describe_row(r):
    """One short line naming a results row, for warnings."""
    text = (f"{r['_file']}:{r['_line']}: {r['queue']} {r['workload']} "
            f"{r['producers']}x{r['consumers']} rep {r['rep']}: {r['verdict']}")
    if r.get("verdict_detail"):
        text += f" ({r['verdict_detail']})"
    return text


def split_rows(rows):
    """Splits rows into (results, sanitizer_rows): a sanitizer build's numbers are not results."""
    good = [r for r in rows if not r["sanitizer"].strip()]
    refused = [r for r in rows if r["sanitizer"].strip()]
    return good, refused


# --------------------------------------------------------------------------------------------
# Aggregation

Stat = collections.namedtuple("Stat", "median lo hi n")


def stat(values):
    """Median, min, max and count of the non-None values, or None if there are none."""
    values = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not values:
        return None
    return Stat(statistics.median(values), min(values), max(values), len(values))


def shape_sort_key(shape):
    p, c = shape
    return (p + c, p, c)


class Group:
    """The repetitions of one configuration: context, queue, workload, shape and variant."""

    def __init__(self, key):
        self.key = key
        self.context, self.queue, self.workload, self.shape, self.variant, self.tag = key
        self.rows = []  # rows the statistics are computed from
        self.verdicts = collections.Counter()  # every row of this configuration
        self.oversubscribed = False

    @property
    def series(self):
        return (self.context, self.queue, self.variant, self.tag)

    def stat(self, column):
        return stat([r[column] for r in self.rows])

    def median(self, column):
        s = self.stat(column)
        return s.median if s else None

    def verdict_text(self):
        return ", ".join(f"{n} {v}" for v, n in sorted(self.verdicts.items(),
                                                       key=lambda kv: (kv[0] != "ok", kv[0])))


def context_of(row):
    return tuple(row[c] for c in CONTEXT_COLUMNS)


def variant_of(row):
    raw = row.get("_raw", row)
    return tuple((c, str(raw.get(c, ""))) for c in VARIANT_COLUMNS)


def aggregate(rows, include_non_ok=False):
    """Groups rows by configuration, in first-seen order.

    Statistics use the ok rows only; the other rows are still counted in `verdicts`. With
    include_non_ok, rows of any other verdict form groups of their own (tag = the verdict), so
    they are never mixed with good ones.
    """
    groups = collections.OrderedDict()
    for r in rows:
        base = (context_of(r), r["queue"], r["workload"], (r["producers"], r["consumers"]),
                variant_of(r))
        ok = r["verdict"] == "ok"
        tag = "" if ok or not include_non_ok else r["verdict"]
        key = base + (tag,)
        g = groups.get(key)
        if g is None:
            g = groups[key] = Group(key)
        g.verdicts[r["verdict"]] += 1
        if ok or include_non_ok:
            g.rows.append(r)
        if r["oversubscribed"] == 1:
            g.oversubscribed = True
    return list(groups.values())


# --------------------------------------------------------------------------------------------
# Formatting numbers


def si(value, digits=3):
    """95000 -> '95k', 1500000 -> '1.5M', 12 -> '12'."""
    if value is None:
        return ""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.{digits}g}{suffix}"
    return f"{value:.{digits}g}"


TIME_UNITS = (("s", 1e9), ("ms", 1e6), ("us", 1e3), ("ns", 1.0))


def duration_ns(value):
    """A duration in nanoseconds as text with a unit: 51500 -> '51.5us'."""
    if value is None:
        return ""
    for unit, scale in TIME_UNITS:
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}ns"


def duration_s(text):
    """A duration column in seconds (as written in the CSV) to short text: '0.05' -> '50ms'."""
    try:
        return duration_ns(float(text) * 1e9)
    except ValueError:
        return text


def byte_size(value):
    if value is None:
        return ""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.0f}B"


def variant_value_text(column, text):
    """A results file's configuration value as short text, by the column's unit: rates with
    k/M and /s, seconds as a duration."""
    if text == "":
        return "-"
    unit = UNITS["results"].get(column, "")
    if unit == "1/s":
        try:
            return si(float(text)) + "/s"
        except ValueError:
            return text
    if unit == "s":
        return duration_s(text)
    return text
