#!/usr/bin/python3
"""The folders' dependencies point one way (docs/DESIGN.md, "Folders"):

    core        the standard library only
    queues      core, queues
    workloads   core, workloads
    results     core, queues (the queue traits a row records), results
    harness     anything above, harness, and the generated build info
    bench       core, queues, harness/build_info.hpp, results/columns.hpp (its Google
                Benchmark context keys are the results file's column names)
    qbench      the umbrella header users include: anything above

Every `#include "..."` of every C++ file in those folders is checked against that table; a file
that reaches further up fails the test with its file, line and the include. results/ is also
built as its own library without the harness (CMakeLists.txt), so a call that points back does
not link either.

    /usr/bin/python3 tests/test_layering.py
"""

import os
import re
import sys
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# folder -> the folders (or exact headers) its files may include
ALLOWED = {
    "core": {"core"},
    "queues": {"core", "queues"},
    "workloads": {"core", "workloads"},
    "results": {"core", "queues", "results"},
    "harness": {"core", "queues", "workloads", "results", "harness"},
    "bench": {"core", "queues", "harness/build_info.hpp", "results/columns.hpp"},
    "qbench": {"core", "queues", "workloads", "results", "harness", "qbench"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def violations(root=ROOT):
    """Yields (file, line number, include) for every include outside its folder's allowance."""
    for folder, allowed in ALLOWED.items():
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for name in sorted(files):
                if not name.endswith((".hpp", ".cpp", ".h")):
                    continue
                path = os.path.join(dirpath, name)
                here = os.path.relpath(dirpath, root)
                with open(path, encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m:
                            continue
                        target = m.group(1)
                        # Quoted includes resolve next to the including file first.
                        beside = os.path.normpath(os.path.join(here, target))
                        if os.path.exists(os.path.join(root, beside)):
                            target = beside
                        top = target.split("/")[0]
                        if top not in allowed and target not in allowed:
                            yield os.path.relpath(path, root), number, m.group(1)


class Layering(unittest.TestCase):
    def test_every_include_points_down(self):
        found = [f"{f}:{n}: includes {inc}" for f, n, inc in violations()]
        self.assertEqual(found, [], "includes against the folder order:\n" + "\n".join(found))

    def test_a_backward_include_is_caught(self):
        # The checker itself: a results/ file that includes a harness header is reported.
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            os.makedirs(os.path.join(tmp, "results"))
            with open(os.path.join(tmp, "results", "x.cpp"), "w", encoding="utf-8") as f:
                f.write('#include "core/units.hpp"\n#include "harness/engine.hpp"\n')
            self.assertEqual(list(violations(tmp)), [("results/x.cpp", 2, "harness/engine.hpp")])


if __name__ == "__main__":
    sys.exit(0 if unittest.main(exit=False).result.wasSuccessful() else 1)
