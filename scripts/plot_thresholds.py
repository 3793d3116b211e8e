#!/usr/bin/python3
"""Plot TNQ's measured error against the truncation threshold alpha.

Input: the CSV or JSON of ``gradquant optimize DUMP --curve LAYER --bits B --format csv|json``
(one record, one bit budget), from a file or stdin (-): rows with ``point = grid`` trace the
measured error (``nmse``, with its ``trunc`` and ``quant`` parts) and the Laplace model
(``nmse_predicted``) over alpha; the rows
``closed``, ``gauss``, ``empirical_pdf`` and ``search`` are the four thresholds of the
threshold report, marked on the measured curve. Errors are normalised by ||g||^2.

Usage (the picture in docs/thresholds.png)::

    build/apps/gradquant optimize data/fmnist_cnn.h5 --curve fc1.weight --bits 3 --records 1 \\
        --format csv | /usr/bin/python3 scripts/plot_thresholds.py - -o docs/thresholds.png

The thresholds or frontier tables (optimize without --curve) hold no curve: the script says so.
Needs matplotlib (Debian: python3-matplotlib); runs headless (Agg).
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

MARKERS = {  # point -> (label, marker, colour)
    "closed": ("closed form α* (Laplace)", "o", "tab:red"),
    "gauss": ("§3.9, fitted Gaussian", "s", "tab:green"),
    "empirical_pdf": ("§3.9, empirical pdf", "D", "tab:purple"),
    "search": ("measured optimum", "*", "black"),
}
HINT = "make the input with gradquant optimize DUMP --curve LAYER --bits B --format csv (or json)"


def curve_rows(source):
    """The curve's rows and meta, or exit naming what the input holds instead."""
    tables, metas = pc.read_report(source)
    rows = tables.get("curve")
    if not rows:
        found = ", ".join(tables) or "nothing"
        sys.exit(f"plot_thresholds.py: {source}: no curve (found: {found}); {HINT}")
    missing = [c for c in ("point", "alpha", "nmse", "trunc", "quant", "nmse_predicted", "layer",
                           "record", "bits") if c not in rows[0]]
    if missing:
        sys.exit(f"plot_thresholds.py: {source}: the curve lacks column(s) {', '.join(missing)}")
    return rows, metas.get("curve", {})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("input", help="output of gradquant optimize --curve (- for stdin)")
    parser.add_argument("-o", "--output", required=True, help="PNG to write")
    args = parser.parse_args()

    rows, meta = curve_rows(args.input)
    grid = [r for r in rows if r["point"] == "grid" and pc.finite(r["alpha"])]
    if not grid:
        sys.exit(f"plot_thresholds.py: {args.input}: the curve has no 'grid' rows; {HINT}")
    alpha = [r["alpha"] for r in grid]

    plt = pc.agg()
    import matplotlib.ticker  # noqa: E402 (after pc.agg() picked the backend)
    import matplotlib
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(alpha, [r["nmse"] for r in grid], color="tab:blue", lw=2,
            label="measured nmse (tnq:alpha=α)")
    ax.plot(alpha, [r["trunc"] for r in grid], color="tab:blue", lw=1, ls=":",
            label="truncation part")
    ax.plot(alpha, [r["quant"] for r in grid], color="tab:blue", lw=1, ls="--",
            label="quantization part")
    ax.plot(alpha, [r["nmse_predicted"] for r in grid], color="tab:orange", lw=1.5,
            label="Laplace model f(α)/mean g²")
    for r in rows:
        if r["point"] in MARKERS and pc.finite(r["alpha"]) and pc.finite(r["nmse"]):
            label, marker, colour = MARKERS[r["point"]]
            ax.plot(r["alpha"], r["nmse"], marker=marker, color=colour, ls="none",
                    ms=11 if marker == "*" else 7,
                    label=f"{label}: α={r['alpha']:.3g}, nmse={r['nmse']:.3g}")
    first = grid[0]
    record = int(first["record"]) if pc.finite(first["record"]) else first["record"]
    bits = int(first["bits"]) if pc.finite(first["bits"]) else first["bits"]
    trials = meta.get("trials", "?")
    if isinstance(trials, float) and math.isfinite(trials):
        trials = int(trials)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # The curve spans about 1.4 decades of alpha: label the 2..9 minor ticks too.
    ax.xaxis.set_minor_formatter(matplotlib.ticker.FuncFormatter(
        lambda x, _: f"{x:.2g}" if int(round(x / 10 ** math.floor(math.log10(x)))) in (2, 5)
        else ""))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda x, _: f"{x:.2g}"))
    ax.set_xlabel("truncation threshold α")
    ax.set_ylabel("error / ||g||²")
    ax.set_title(f"TNQ, {first['layer']}, record {record}, {bits} bits ({trials} seeds)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)


if __name__ == "__main__":
    main()
