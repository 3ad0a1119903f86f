"""The whole corpus, and a command line over it.

    python -m tests.badinput.corpus --summary     # markdown table: cases per kind (and how many are pending a fix)
    python -m tests.badinput.corpus --list        # one line per case: name, expected exit code, pending reason
    python -m tests.badinput.corpus --write DIR   # materialise every case's input files and argv under DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from . import configs, datasets, geometry, images, options
from .cases import KINDS, Case, Shared


def all_cases() -> list[Case]:
    """Every case, in kind order; names are unique."""
    found = images.cases() + geometry.cases() + configs.cases() + datasets.cases() + options.cases()
    names = Counter(c.name for c in found)
    dup = [n for n, k in names.items() if k > 1]
    if dup:
        raise ValueError(f"duplicate case names: {dup}")
    return sorted(found, key=lambda c: KINDS.index(c.kind))


def summary(cases: list[Case]) -> str:
    """A markdown table: per kind, the cases expecting a user error (exit 2), those expecting success (exit 0), and
    how many are marked pending a fix."""
    rows = ["| kind | user error (exit 2) | works (exit 0) | pending a fix | total |", "|---|---:|---:|---:|---:|"]
    for kind in KINDS:
        mine = [c for c in cases if c.kind == kind]
        errors, works = sum(c.code == 2 for c in mine), sum(c.code == 0 for c in mine)
        rows.append(f"| {kind} | {errors} | {works} | {sum(bool(c.pending) for c in mine)} | {len(mine)} |")
    rows.append(f"| **all** | {sum(c.code == 2 for c in cases)} | {sum(c.code == 0 for c in cases)} | "
                f"{sum(bool(c.pending) for c in cases)} | {len(cases)} |")
    return "\n".join(rows)


def write_corpus(cases: list[Case], root: Path) -> None:
    """Each case's inputs under ``root/<kind>/<what>/in`` and its argv in ``argv.json`` (shared inputs under
    ``root/_shared``)."""
    shared = Shared(root / "_shared")
    for c in cases:
        d = root / c.name
        (d / "in").mkdir(parents=True, exist_ok=True)
        (d / "out").mkdir(exist_ok=True)
        argv = c.build(d, shared)
        (d / "argv.json").write_text(json.dumps({"argv": argv, "code": c.code, "message": c.message,
                                                 "pending": c.pending}, indent=1))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.badinput.corpus", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", action="store_true", help="print the counts per kind as a markdown table")
    ap.add_argument("--list", action="store_true", help="print one line per case")
    ap.add_argument("--write", type=Path, metavar="DIR", help="write every case's inputs under DIR")
    args = ap.parse_args(argv)
    cases = all_cases()
    if args.list:
        for c in cases:
            print(f"{c.name}\texit {c.code}" + (f"\tpending: {c.pending}" if c.pending else ""))
    if args.write:
        write_corpus(cases, args.write)
        print(f"wrote {len(cases)} cases under {args.write}")
    if args.summary or not (args.list or args.write):
        print(summary(cases))


if __name__ == "__main__":
    sys.exit(main())
