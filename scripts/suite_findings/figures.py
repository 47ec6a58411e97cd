"""FigureKit: the drawing helpers the suites' draw() methods share, in the style of
scripts/plot.py (matplotlib is imported only when a FigureKit is made)."""

import qbcsv

from .common import KIND_ORDER, unique, _values


class FigureKit:
    """Shared drawing helpers, in the style of scripts/plot.py."""

    def __init__(self):
        import plot  # noqa: E402  (imports matplotlib)
        from matplotlib import ticker
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        self.plot, self.ticker, self.Line2D, self.Patch = plot, ticker, Line2D, Patch
        self.palette = plot._palette(10) + plot._palette(20)[1::2]

    def figure(self, width, height):
        return self.plot._new_figure(min(width, 22.0), height)

    def style(self, ax):
        self.plot._style_axes(ax)

    def color(self, i):
        return self.palette[i % len(self.palette)]

    def queue_color(self, q, queues):
        return self.color(queues.index(q) if q in queues else 0)

    def kind_color(self, kind):
        return self.color(KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER))

    def patch(self, color, label, hatch=None, alpha=None):
        kwargs = {"facecolor": color, "label": label, "edgecolor": "0.3" if hatch else None}
        if hatch:
            kwargs["hatch"] = hatch
        if alpha is not None:
            kwargs["alpha"] = alpha
        return self.Patch(**kwargs)

    def line(self, color, style, label, marker=None, width=1.5, alpha=None):
        return self.Line2D([], [], color=color, linestyle=style, label=label, marker=marker,
                           linewidth=width, alpha=alpha)

    def legend(self, ax, handles, title=None):
        self.plot._legend_outside(ax, handles=handles, title=title)

    def si_formatter(self):
        return self.plot._si_formatter()

    def time_unit(self, values_ns):
        return self.plot._time_unit(values_ns)

    @staticmethod
    def log_needed(values, ratio=50):
        values = [v for v in values if v is not None and v > 0]
        return len(values) > 1 and max(values) / min(values) > ratio

    def log_y(self, ax, values=()):
        ax.set_yscale("log")
        self.plot._log_ticks(ax.yaxis, list(values))
        ax.yaxis.set_major_formatter(self.ticker.FuncFormatter(
            lambda v, _p: self.plot._plain_number(v)))
        ax.yaxis.set_minor_formatter(self.ticker.NullFormatter())

    def burst_windows(self, ts):
        return self.plot._burst_windows(ts)

    def bars(self, ax, categories, scale=1.0, annotate=None, hatch=None, fill=True,
             whiskers=True):
        """Grouped bars: categories = [(x label, [(bar label, rows, key, color), ...])].
        Each bar is the median of key over rows, whiskers min to max. Returns the values."""
        n = max((len(bars) for _l, bars in categories), default=1)
        width = 0.8 / max(n, 1)
        values = []
        for i, (_label, bars) in enumerate(categories):
            for j, (_name, rows, key, color) in enumerate(bars):
                st = qbcsv.stat(_values(rows, key))
                if st is None:
                    continue
                x = i + (j - (len(bars) - 1) / 2) * width
                y = st.median / scale
                kwargs = dict(color=color if fill else "none", edgecolor="0.2" if hatch else None,
                              hatch=hatch, linewidth=0 if not hatch else 0.6)
                if whiskers and len(rows) > 1:
                    kwargs.update(yerr=[[y - st.lo / scale], [st.hi / scale - y]], capsize=2,
                                  error_kw={"elinewidth": 0.8, "ecolor": "0.25"})
                ax.bar([x], [y], width * 0.92, **kwargs)
                values += [st.lo / scale, st.hi / scale]
                if annotate is not None and fill:
                    ax.annotate(annotate(y), (x, st.hi / scale), textcoords="offset points",
                                xytext=(0, 2), ha="center", va="bottom", fontsize=6.5,
                                rotation=90 if n > 4 else 0, color="0.25")
        ax.set_xticks(range(len(categories)))
        ax.set_xticklabels([label for label, _b in categories],
                           rotation=30 if len(categories) > 6 else 0,
                           ha="right" if len(categories) > 6 else "center")
        ax.set_xlim(-0.5, len(categories) - 0.5)
        ax.margins(y=0.12)
        return values

    def footer(self, data, rows, extra=()):
        lines = []
        for host, cpu, sha in unique((r["host"], r["cpu_model"], r["git_sha"]) for r in rows):
            same = [r for r in rows if (r["host"], r["cpu_model"], r["git_sha"]) == (host, cpu,
                                                                                     sha)]
            info = {"host": host, "cpu_model": cpu, "git_sha": sha,
                    "cores": {r["cores"] for r in same if r["cores"] is not None},
                    "compiler": {r["compiler"] for r in same if r["compiler"]},
                    "build_type": {r["build_type"] for r in same if r["build_type"]}}
            lines.append(self.plot.context_line(info))
        if any(r["oversubscribed"] == 1 for r in rows):
            lines.append(self.plot.OVERSUBSCRIBED_NOTE)
        lines.append(f"qbench suite {data.suite.name}; findings in findings.md")
        lines.extend(extra)
        return lines

    def finish(self, fig, title, subtitle, data, rows, extra=()):
        self.plot._finish(fig, title, subtitle, self.footer(data, rows or data.rows, extra))

    def empty(self, message, data):
        fig = self.figure(8.0, 3.0)
        ax = fig.add_subplot()
        ax.axis("off")
        ax.text(0.5, 0.5, message + ": no data for this figure", ha="center", va="center",
                fontsize=11, color="0.3")
        self.finish(fig, f"qbench suite {data.suite.name}", "", data, data.rows)
        return fig
