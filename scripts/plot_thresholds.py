"""Plot TNQ's measured error against the truncation threshold alpha.

Input: the CSV of ``gradquant optimize DUMP --curve LAYER --bits B --format csv`` (one record,
one bit budget): rows with ``point = grid`` trace the measured error (``nmse``, with its
``trunc`` and ``quant`` parts) and the Laplace model (``nmse_predicted``) over alpha; the rows
``closed``, ``gauss``, ``empirical_pdf`` and ``search`` are the four thresholds of the
threshold report, marked on the measured curve. Errors are normalised by ||g||^2.

Usage (the picture in docs/thresholds.png)::

    build/apps/gradquant optimize data/fmnist_cnn.h5 --curve fc1.weight --bits 3 --records 1 \\
        --format csv | /usr/bin/python3 scripts/plot_thresholds.py - -o docs/thresholds.png

Needs matplotlib (Debian: python3-matplotlib); runs headless (Agg).
"""
import argparse
import csv
import io
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = {  # point -> (label, marker, colour)
    "closed": ("closed form α* (Laplace)", "o", "tab:red"),
    "gauss": ("§3.9, fitted Gaussian", "s", "tab:green"),
    "empirical_pdf": ("§3.9, empirical pdf", "D", "tab:purple"),
    "search": ("measured optimum", "*", "black"),
}


def read_rows(path):
    """The CSV rows as dicts (``#`` meta lines skipped) and the meta line's key=value pairs."""
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    meta = {}
    lines = []
    for line in text.splitlines():
        if line.startswith("#"):
            for item in line[1:].split():
                key, _, value = item.partition("=")
                meta[key] = value
        elif line.strip():
            lines.append(line)
    return list(csv.DictReader(io.StringIO("\n".join(lines)))), meta


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("csv", help="output of gradquant optimize --curve (- for stdin)")
    parser.add_argument("-o", "--output", default="thresholds.png", help="image file")
    args = parser.parse_args()

    rows, meta = read_rows(args.csv)
    grid = [r for r in rows if r["point"] == "grid"]
    if not grid:
        sys.exit("plot_thresholds.py: no 'grid' rows: was the input made with --curve?")
    alpha = [float(r["alpha"]) for r in grid]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(alpha, [float(r["nmse"]) for r in grid], color="tab:blue", lw=2,
            label="measured nmse (tnq:alpha=α)")
    ax.plot(alpha, [float(r["trunc"]) for r in grid], color="tab:blue", lw=1, ls=":",
            label="truncation part")
    ax.plot(alpha, [float(r["quant"]) for r in grid], color="tab:blue", lw=1, ls="--",
            label="quantization part")
    ax.plot(alpha, [float(r["nmse_predicted"]) for r in grid], color="tab:orange", lw=1.5,
            label="Laplace model f(α)/mean g²")
    for r in rows:
        if r["point"] in MARKERS and r["alpha"]:
            label, marker, colour = MARKERS[r["point"]]
            ax.plot(float(r["alpha"]), float(r["nmse"]), marker=marker, color=colour, ls="none",
                    ms=11 if marker == "*" else 7,
                    label=f"{label}: α={float(r['alpha']):.3g}, nmse={float(r['nmse']):.3g}")
    first = grid[0]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("truncation threshold α")
    ax.set_ylabel("error / ||g||²")
    ax.set_title(f"TNQ, {first['layer']}, record {first['record']}, {first['bits']} bits "
                 f"({meta.get('trials', '?')} seeds)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7.5, loc="best")
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)


if __name__ == "__main__":
    main()
