#!/usr/bin/python3
"""Print chosen columns of a gradquant CSV/JSON report as an aligned table, for the docs.

  gradquant analyze ... --format csv | /usr/bin/python3 scripts/abridge_table.py \\
      quantizer n bits bits_per_coord=bits/coord nmse

Each argument is a column, optionally renamed with =HEADER. Numbers are rounded (not cut) to
--digits significant digits (%g), integers print whole, an undefined value prints as '-'.
Text columns are left-aligned, numbers right-aligned. --table picks the table of a report
with several (default: the first).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402


def cell(value, digits):
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.{digits}g}"
    return str(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("columns", nargs="+", help="COLUMN or COLUMN=HEADER")
    ap.add_argument("--input", default="-", help="report file (default: stdin)")
    ap.add_argument("--table", help="table name (default: the first)")
    ap.add_argument("--digits", type=int, default=5, help="significant digits (default: 5)")
    args = ap.parse_args()
    tables = pc.read_tables(args.input)
    if not tables:
        sys.exit(f"abridge_table.py: {args.input}: no table")
    name = args.table or next(iter(tables))
    rows = pc.table(tables, name, args.input)
    cols = [c.split("=", 1) if "=" in c else [c, c] for c in args.columns]
    missing = [c for c, _ in cols if c not in rows[0]]
    if missing:
        sys.exit(f"abridge_table.py: {args.input}: table '{name}' has no column(s) "
                 f"{', '.join(missing)}")
    body = [[cell(r[c], args.digits) for c, _ in cols] for r in rows]
    numeric = [all(isinstance(r[c], float) for r in rows) for c, _ in cols]
    width = [max([len(h)] + [len(b[k]) for b in body]) for k, (_, h) in enumerate(cols)]

    def line(items):
        return "  ".join(t.rjust(w) if num else t.ljust(w)
                         for t, w, num in zip(items, width, numeric)).rstrip()

    print(line([h for _, h in cols]))
    for b in body:
        print(line(b))


if __name__ == "__main__":
    main()
