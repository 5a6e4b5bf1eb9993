#!/usr/bin/env python3
"""Render a painterc results file with lm-eval's own table code.

    build/venv/bin/python scripts/referee/lmeval_table.py RESULTS.json [--against LMEVAL_RESULTS.json]
    build/venv/bin/python scripts/referee/lmeval_table.py --rows ROWS.json...

RESULTS.json is what `painterc score --output` writes. The table is
lm_eval.utils.make_table's, exactly as `lm_eval` prints it after a run. With
--against, the lm-eval results file of the same run is rendered too, both
are printed, and the exit status is 1 when the renderings differ.
scripts/referee/lmeval_referee.py does that comparison on painter-16.

With --rows, it prints instead the referee table of one or more
`lmeval_referee.py --hf ... --rows-out ROWS.json` runs as one table (task ×
lm-eval backend × what is held to it), with each row's problems under it.
scripts/referee/referee_all.sh writes those files and calls this.
"""

import argparse
import json
import sys


def render(path):
    from lm_eval.utils import make_table

    with open(path, encoding="utf-8") as f:
        results = json.load(f)
    out = make_table(results)
    if "groups" in results:
        out += "\n" + make_table(results, "groups")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="?", help="a painterc results file (painterc score --output)")
    ap.add_argument("--against", help="lm-eval's results file of the same run")
    ap.add_argument("--rows", nargs="+", metavar="ROWS.json", help="referee rows files to print as one table")
    args = ap.parse_args()
    if args.rows:
        import os

        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import lmeval_referee

        rows = []
        for path in args.rows:
            with open(path, encoding="utf-8") as f:
                rows += json.load(f)
        lmeval_referee.print_rows(rows)
        bad = sum(1 for r in rows if r["problems"])
        print(f"\n{len(rows)} rows, {bad} with differences")
        return
    if not args.results:
        ap.error("give a RESULTS.json or --rows")
    mine = render(args.results)
    print(mine)
    if args.against:
        theirs = render(args.against)
        print(theirs)
        same = mine == theirs
        print("make_table renderings identical:", same)
        if not same:
            sys.exit(1)


if __name__ == "__main__":
    main()
