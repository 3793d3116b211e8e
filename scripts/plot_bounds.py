#!/usr/bin/python3
"""Measured error against theory for every quantizer and layer of a `gradquant analyze` report.

Left: measured nmse (with its 95 % confidence interval) against the theory for the same slab
(exact value: circle; bound only: triangle; the stated bound of a method that also has an
exact value: hollow triangle), log-log, with the line measured = theory. A circle must sit on
the line; a triangle must sit on or below it. Right: measured/theory per layer and
quantizer, with the confidence interval scaled alike. Reads CSV/JSON from a file or stdin ("-").

  gradquant analyze data/fmnist_cnn.h5 -q dqsg:s=3 -q qsgd:s=4 --format csv \\
    | /usr/bin/python3 scripts/plot_bounds.py - -o docs/bounds.png
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="analyze CSV/JSON file, or - for stdin")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    args = ap.parse_args()

    rows = pc.table(pc.read_tables(args.input), "quantizers", args.input)
    rows = [r for r in rows if pc.finite(r.get("nmse")) and pc.finite(r.get("nmse_theory"))
            and r["nmse"] > 0 and r["nmse_theory"] > 0]
    if not rows:
        sys.exit(f"{args.input}: no rows with both a measured error and a theory")

    plt = pc.agg()
    specs = list(dict.fromkeys(r["quantizer"] for r in rows))
    # Many quantizers: the legend goes below the plots, and the figure grows to hold it.
    below = len(specs) > 4
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), dpi=90,
                                      gridspec_kw={"width_ratios": [1, 1.3]})
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    layers = list(dict.fromkeys(str(r["layer"]) for r in rows))
    for i, spec in enumerate(specs):
        c = colours[i % len(colours)]
        for kind, marker in (("exact", "o"), ("bound", "^")):
            mine = [r for r in rows if r["quantizer"] == spec and r.get("theory_kind") == kind]
            if not mine:
                continue
            ci = [r["nmse_ci"] if pc.finite(r.get("nmse_ci")) else 0.0 for r in mine]
            left.errorbar([r["nmse_theory"] for r in mine], [r["nmse"] for r in mine], yerr=ci,
                          fmt=marker, color=c, ms=5, capsize=2,
                          label=f"{spec} ({kind})")
            x = [layers.index(str(r["layer"])) + (i - (len(specs) - 1) / 2) * 0.12 for r in mine]
            right.errorbar(x, [r["nmse"] / r["nmse_theory"] for r in mine],
                           yerr=[e / r["nmse_theory"] for e, r in zip(ci, mine)], fmt=marker,
                           color=c, ms=5, capsize=2)
        # A method with an exact value may also state a bound (nmse_bound): hollow triangles.
        mine = [r for r in rows if r["quantizer"] == spec and r.get("theory_kind") == "exact"
                and pc.finite(r.get("nmse_bound")) and r["nmse_bound"] > 0]
        if mine:
            left.plot([r["nmse_bound"] for r in mine], [r["nmse"] for r in mine], "^",
                      mfc="none", color=c, ms=6, label=f"{spec} vs its bound")
    lo = min(min(r["nmse"], r["nmse_theory"]) for r in rows) / 1.5
    hi = max(max(r["nmse"], r["nmse_theory"], r.get("nmse_bound") if pc.finite(r.get("nmse_bound"))
                 else 0.0) for r in rows) * 1.5
    left.plot([lo, hi], [lo, hi], "k--", lw=1, label="measured = theory")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("theory: E||Q(g)-g||²/||g||² (exact or bound)")
    left.set_ylabel("measured nmse")
    left.grid(True, which="both", alpha=0.3)
    extra = 0.0
    if below:
        handles, labels = left.get_legend_handles_labels()
        extra = 0.16 * ((len(handles) + 1) // 2) + 0.3
        fig.set_size_inches(11, 4.6 + extra)
        fig.legend(handles, labels, fontsize=7, ncol=2, loc="lower center")
    else:
        left.legend(fontsize=7)
    right.axhline(1.0, color="k", ls="--", lw=1)
    right.set_xticks(range(len(layers)))
    right.set_xticklabels(layers, rotation=45, ha="right", fontsize=7)
    right.set_ylabel("measured / theory")
    right.grid(True, axis="y", alpha=0.3)
    fig.suptitle("measured error against theory", fontsize=10)
    fig.tight_layout(rect=(0, extra / (4.6 + extra), 1, 1))
    fig.savefig(args.output)


if __name__ == "__main__":
    main()
