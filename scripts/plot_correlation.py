#!/usr/bin/python3
"""Worker-correlation heatmaps of `gradquant analyze` gradient rows, one panel per layer.

Each panel is the W x W Pearson matrix of the workers' gradients (the corr_matrix column of the
CSV or JSON report). By default the per-layer rows (record '*', from --by layer) are drawn; with
--by record rows, pick records with --record. Reads a file or stdin ("-"); writes a PNG.

  gradquant analyze data/fmnist_cnn.h5 --stats --format csv \\
    | /usr/bin/python3 scripts/plot_correlation.py - -o docs/correlation.png
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402


def label(row):
    rec = row.get("record")
    if isinstance(rec, float) and math.isfinite(rec):
        return f"{row['layer']} (record {int(rec)})"
    return str(row["layer"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="analyze CSV/JSON file, or - for stdin")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--record", type=int, help="only rows of this record index")
    ap.add_argument("--max-panels", type=int, default=16, help="draw at most this many layers")
    args = ap.parse_args()

    rows = pc.table(pc.read_tables(args.input), "gradients", args.input)
    if args.record is not None:
        rows = [r for r in rows if r.get("record") == float(args.record)]
    rows = [(r, pc.matrix(r.get("corr_matrix"))) for r in rows]
    rows = [(r, m) for r, m in rows if m]
    if not rows:
        sys.exit(f"{args.input}: no corr_matrix column (use --format csv or json, not table)")
    rows = rows[: args.max_panels]

    plt = pc.agg()
    cols = min(4, len(rows))
    nrows = (len(rows) + cols - 1) // cols
    fig, axes = plt.subplots(nrows, cols, figsize=(2.6 * cols + 0.8, 2.5 * nrows), dpi=90,
                             squeeze=False)
    image = None
    for ax, (row, m) in zip(axes.flat, rows):
        image = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        w = len(m)
        if w <= 8:
            for a in range(w):
                for b in range(w):
                    if math.isfinite(m[a][b]):
                        ax.text(b, a, f"{m[a][b]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(w))
        ax.set_yticks(range(w))
        ax.tick_params(labelsize=7)
        ax.set_title(label(row), fontsize=8)
    for ax in list(axes.flat)[len(rows):]:
        ax.axis("off")
    fig.suptitle("Pearson correlation between workers' gradients (worker x worker)", fontsize=9)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.8)
    fig.savefig(args.output)


if __name__ == "__main__":
    main()
