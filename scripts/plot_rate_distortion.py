#!/usr/bin/python3
"""Rate-distortion plot of `gradquant analyze` quantizer rows.

Each quantizer is a point (exact bits per coordinate, measured normalised error nmse) with its
95 % confidence interval; beside it the theory for the same data (exact value or bound,
hollow diamond, joined by a dotted line) and the ideal rate (order-0 entropy of the symbols,
cross at the same error). Reads CSV or JSON from a file or stdin ("-"); writes a PNG.

  gradquant analyze data/fmnist_cnn.h5 -q dqsg:s=3 -q qsgd:s=4 --by all --format csv \\
    | /usr/bin/python3 scripts/plot_rate_distortion.py - -o docs/rate_distortion.png

With per-layer rows (--by layer or record), every row is drawn, colour per quantizer.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="analyze CSV/JSON file, or - for stdin")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--layer", help="only rows of this layer ('*' = whole-model rows)")
    ap.add_argument("--title", default="rate-distortion: measured vs theory")
    args = ap.parse_args()

    rows = pc.table(pc.read_tables(args.input), "quantizers", args.input)
    if args.layer is not None:
        rows = [r for r in rows if r.get("layer") == args.layer]
    elif any(r.get("layer") == "*" for r in rows):
        rows = [r for r in rows if r.get("layer") == "*"]
    rows = [r for r in rows if pc.finite(r.get("bits_per_coord")) and pc.finite(r.get("nmse"))
            and r["nmse"] > 0 and r["bits_per_coord"] > 0]
    if not rows:
        sys.exit(f"{args.input}: no rows with positive bits and error to plot")

    plt = pc.agg()
    specs = list(dict.fromkeys(r["quantizer"] for r in rows))
    # Many quantizers: the legend goes to the right of the plot.
    outside = len(specs) > 6
    fig, ax = plt.subplots(figsize=(11 if outside else 7, 4.8), dpi=90)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, spec in enumerate(specs):
        c = colours[i % len(colours)]
        mine = [r for r in rows if r["quantizer"] == spec]
        x = [r["bits_per_coord"] for r in mine]
        y = [r["nmse"] for r in mine]
        ci = [r["nmse_ci"] if pc.finite(r.get("nmse_ci")) else 0.0 for r in mine]
        ax.errorbar(x, y, yerr=ci, fmt="o", color=c, ms=4, capsize=3, label=spec, zorder=3)
        for r in mine:
            t = r.get("nmse_theory")
            if pc.finite(t) and t > 0:
                ax.plot([r["bits_per_coord"]] * 2, [r["nmse"], t], ":", color=c, lw=1)
                ax.plot(r["bits_per_coord"], t, "D", mfc="none", color=c, ms=10)
            ideal = r.get("bits_ideal_per_coord")
            if pc.finite(ideal) and ideal > 0 and not math.isclose(ideal, r["bits_per_coord"]):
                ax.plot(ideal, r["nmse"], "x", color=c, ms=6)
    ax.plot([], [], "D", mfc="none", color="gray", label="theory (exact or bound)")
    ax.plot([], [], "x", color="gray", label="ideal rate (symbol entropy)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    from matplotlib.ticker import FormatStrFormatter
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(FormatStrFormatter("%g"))
    ax.tick_params(axis="x", which="minor", labelsize=7)
    ax.set_xlabel("bits per coordinate (exact, per worker)")
    ax.set_ylabel("nmse = E||Q(g)-g||² / ||g||²")
    ax.set_title(args.title)
    ax.grid(True, which="both", alpha=0.3)
    if outside:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    else:
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(args.output)


if __name__ == "__main__":
    main()
