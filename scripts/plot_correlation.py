#!/usr/bin/python3
"""Worker-correlation heatmaps of `gradquant analyze` gradient rows, one panel per row.

Each panel is the W x W Pearson matrix of the workers' gradients (the corr_matrix column of the
CSV or JSON report) for one layer (--by layer), one (layer, record) (--by record) or the whole
model (--by all). Reads a file or stdin ("-"). Every panel is drawn: up to --per-page panels
go on one PNG, and more continue on OUT-2.png, OUT-3.png, ... next to OUT.png (the script
lists the files it wrote on stderr). --record keeps the rows of one record.

  gradquant analyze data/fmnist_cnn.h5 --stats --format csv \\
    | /usr/bin/python3 scripts/plot_correlation.py - -o docs/correlation.png
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

COLS = 4


def label(row):
    layer = str(row.get("layer"))
    name = "whole model" if layer == "*" else layer
    rec = row.get("record")
    if pc.finite(rec):
        step = row.get("step")
        return f"{name}, record {int(rec)}" + (f" (step {int(step)})" if pc.finite(step) else "")
    return name


def page_paths(output, pages):
    root, ext = os.path.splitext(output)
    return [output] + [f"{root}-{p}{ext or '.png'}" for p in range(2, pages + 1)]


def draw_page(plt, panels, path, title):
    cols = min(COLS, len(panels))
    nrows = (len(panels) + cols - 1) // cols
    w = max(len(m) for _, m in panels)
    side = 2.3 + 0.12 * max(0, w - 4)
    fig, axes = plt.subplots(nrows, cols, figsize=(side * cols + 1.4, side * nrows + 0.9),
                             dpi=100, squeeze=False, layout="constrained")
    image = None
    for ax, (row, m) in zip(axes.flat, panels):
        image = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        n = len(m)
        if n <= 8:
            for a in range(n):
                for b in range(n):
                    v = m[a][b]
                    if math.isfinite(v):
                        v = 0.0 if abs(v) < 0.005 else v  # no "-0.00"
                        # White on the dark ends of the colour map (the diagonal's 1.00), black
                        # on the pale middle.
                        ax.text(b, a, f"{v:.2f}", ha="center", va="center", fontsize=7,
                                color="white" if abs(v) > 0.55 else "black")
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.tick_params(labelsize=7, length=2)
        ax.set_xlabel("worker", fontsize=7, labelpad=1)
        ax.set_ylabel("worker", fontsize=7, labelpad=1)
        ax.set_title(label(row), fontsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    fig.suptitle(title, fontsize=10)
    bar = fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8, aspect=30)
    bar.set_label("Pearson correlation r", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.savefig(path)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="analyze CSV/JSON file, or - for stdin")
    ap.add_argument("-o", "--output", required=True,
                    help="PNG to write; further pages go to OUT-2.png, OUT-3.png, ...")
    ap.add_argument("--record", type=int, help="only rows of this record index")
    ap.add_argument("--per-page", type=int, default=12, help="panels per PNG (default: 12)")
    args = ap.parse_args()
    if args.per_page < 1:
        sys.exit("plot_correlation.py: --per-page must be at least 1")

    rows = pc.table(pc.read_tables(args.input), "gradients", args.input,
                    "run gradquant analyze (--stats or without --report quantizers) with "
                    "--format csv or json")
    if args.record is not None:
        rows = [r for r in rows if r.get("record") == float(args.record)]
        if not rows:
            sys.exit(f"plot_correlation.py: {args.input}: no gradient rows of record "
                     f"{args.record} (use analyze --by record)")
    panels = [(r, pc.matrix(r.get("corr_matrix"))) for r in rows]
    panels = [(r, m) for r, m in panels if m]
    if not panels:
        sys.exit(f"plot_correlation.py: {args.input}: no corr_matrix column (use --format csv or "
                 f"json, not table)")

    plt = pc.agg()
    pages = [panels[i:i + args.per_page] for i in range(0, len(panels), args.per_page)]
    paths = page_paths(args.output, len(pages))
    for p, (page, path) in enumerate(zip(pages, paths), 1):
        title = "Pearson correlation between the workers' gradients"
        if len(pages) > 1:
            title += f" (page {p} of {len(pages)})"
        draw_page(plt, page, path, title)
    if len(pages) > 1:
        print(f"plot_correlation.py: {len(panels)} panels on {len(pages)} pages: "
              f"{', '.join(paths)}", file=sys.stderr)


if __name__ == "__main__":
    main()
