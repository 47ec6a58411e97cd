#!/usr/bin/python3
"""Copies the generated findings of each suite run into docs/coordination.md.

    /usr/bin/python3 scripts/embed_findings.py [DOC] [--runs DIR]

DOC (default docs/coordination.md) holds blocks
    <!-- findings:NAME -->
    ...
    <!-- /findings:NAME -->
whose content is replaced by the "## Findings" section of DIR/NAME/findings.md (default DIR:
docs/coordination), headings demoted one level. Nothing else in DOC changes, so the prose
around the generated sentences stays hand-written and the sentences stay generated.
Exit 2 with one line on stderr for a missing file or block.
"""

import argparse
import os
import re
import sys


def findings_section(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start = text.find("## Findings")
    if start < 0:
        raise ValueError(f"{path}: no '## Findings' section")
    end = text.find("\n## ", start + 1)
    body = text[start + len("## Findings"):end if end >= 0 else len(text)].strip("\n")
    return re.sub(r"^(#+) ", r"\1# ", body, flags=re.MULTILINE)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("doc", nargs="?", default="docs/coordination.md")
    ap.add_argument("--runs", default="docs/coordination")
    args = ap.parse_args()
    try:
        with open(args.doc, encoding="utf-8") as f:
            doc = f.read()
        names = re.findall(r"<!-- findings:([a-z_]+) -->", doc)
        if not names:
            raise ValueError(f"{args.doc}: no <!-- findings:NAME --> block")
        for name in names:
            body = findings_section(os.path.join(args.runs, name, "findings.md"))
            pattern = re.compile(rf"(<!-- findings:{name} -->\n).*?(<!-- /findings:{name} -->)",
                                 re.DOTALL)
            if not pattern.search(doc):
                raise ValueError(f"{args.doc}: block findings:{name} is not closed")
            doc = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), doc)
    except (OSError, ValueError) as e:
        print(f"embed_findings.py: {e}", file=sys.stderr)
        return 2
    tmp = args.doc + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(doc)
    os.replace(tmp, args.doc)
    print(f"wrote {args.doc} ({len(names)} findings blocks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
