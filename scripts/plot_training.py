#!/usr/bin/python3
"""Accuracy against exact bits sent, from scripts/train.py's rows.

  /usr/bin/python3 scripts/plot_training.py docs/training_runs.csv -o docs/training.png
  /usr/bin/python3 scripts/plot_training.py docs/training_runs.csv --summary

The picture has two panels: test accuracy against the cumulative uplink bits per worker and
coordinate (log scale), and against the step; one line per run configuration (quantizer, ef,
partition, lr), the mean over its seeds with the range of the seeds shaded. --summary prints
instead one line per configuration: the seeds, the final test accuracy (mean, and the range
as ± half of max − min), the final train loss, and the uplink bits per coordinate per step.
"""
import argparse
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot_common as pc  # noqa: E402

def configs(rows):
    """{(quantizer, ef, partition, lr): {seed: [rows in step order]}}, first-appearance order."""
    out = {}
    for r in rows:
        key = (r["quantizer"], r["ef"], r["partition"], r["lr"])
        out.setdefault(key, {}).setdefault(r["seed"], []).append(r)
    for runs in out.values():
        for seq in runs.values():
            seq.sort(key=lambda r: r["step"])
    return out


def bits_per_coord_step(row, workers, n):
    return row["uplink_bits"] / (workers * n * row["step"])


def summary(rows, meta):
    workers = int(float(meta.get("workers", 4)))
    lines = []
    header = ("quantizer", "ef", "partition", "lr", "seeds", "accuracy", "±", "train_loss",
              "bits/coord/step")
    for (q, ef, part, lr), runs in configs(rows).items():
        last = [seq[-1] for seq in runs.values()]
        n = int(float(meta["parameters"]))
        acc = [r["test_accuracy"] for r in last]
        loss = [r["train_loss"] for r in last]
        bits = [bits_per_coord_step(r, workers, n) for r in last]
        lines.append((q, ef, part, f"{lr:g}", str(len(last)), f"{sum(acc) / len(acc):.4f}",
                      f"{(max(acc) - min(acc)) / 2:.4f}", f"{sum(loss) / len(loss):.4f}",
                      f"{sum(bits) / len(bits):.4g}"))
    widths = [max(len(h), *(len(l[i]) for l in lines)) for i, h in enumerate(header)]
    for i, line in enumerate([header] + lines):
        cells = [c.ljust(w) if j < 4 else c.rjust(w) for j, (c, w) in enumerate(zip(line, widths))]
        print("  ".join(cells).rstrip())


def labels(keys):
    """A short legend label per configuration: the method name, the spec keys whose values
    differ between its configurations, +ef and (partition) when not the defaults."""
    specs = {}
    for q, _, _, _ in keys:
        name, _, rest = q.partition(":")
        specs.setdefault(name, []).append(dict(kv.split("=", 1) for kv in rest.split(",") if kv))
    varying = {name: {k for d in ds for k in d if len({e.get(k) for e in ds}) > 1}
               for name, ds in specs.items()}
    out = {}
    for key in keys:
        q, ef, part, _ = key
        name, _, rest = q.partition(":")
        params = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
        shown = ",".join(f"{k}={params[k]}" for k in sorted(varying[name]) if k in params)
        out[key] = (name + (":" + shown if shown else "") + ("" if ef == "none" else f" +{ef}") +
                    ("" if part == "iid" else f" ({part})"))
    return out


def plot(rows, meta, output):
    plt = pc.agg()
    workers = int(float(meta.get("workers", 4)))
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.5))
    groups = configs(rows)
    names = labels(list(groups))
    colours = plt.get_cmap("tab20").colors
    for k, (key, runs) in enumerate(groups.items()):
        seqs = list(runs.values())
        steps = [r["step"] for r in seqs[0]]
        n = int(float(meta["parameters"]))
        mean = [sum(s[i]["test_accuracy"] for s in seqs) / len(seqs) for i in range(len(steps))]
        lo = [min(s[i]["test_accuracy"] for s in seqs) for i in range(len(steps))]
        hi = [max(s[i]["test_accuracy"] for s in seqs) for i in range(len(steps))]
        bits = [sum(s[i]["uplink_bits"] for s in seqs) / len(seqs) / (workers * n)
                for i in range(len(steps))]
        style = dict(color=colours[k % len(colours)], marker="os^Dv"[k % 5],
                     linestyle="-" if key[1] == "none" else "--")
        left.plot(bits, mean, label=names[key], **style)
        left.fill_between(bits, lo, hi, color=style["color"], alpha=0.15)
        right.plot(steps, mean, **style)
        right.fill_between(steps, lo, hi, color=style["color"], alpha=0.15)
    left.set_xscale("log")
    left.set_xlabel("cumulative uplink bits per worker and coordinate")
    right.set_xlabel("step")
    for ax in (left, right):
        ax.set_ylabel("test accuracy")
        ax.grid(True, alpha=0.3)
    fig.legend(*left.get_legend_handles_labels(), fontsize=8, loc="center right")
    fig.suptitle(f"Fashion-MNIST, {workers} workers: accuracy against exact bits "
                 "(mean of seeds, range shaded)")
    fig.tight_layout(rect=(0, 0, 0.84, 1))
    fig.savefig(output, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help="scripts/train.py CSV or JSON, or - for stdin")
    ap.add_argument("-o", "--output", help="PNG to write")
    ap.add_argument("--summary", action="store_true", help="print the final-accuracy table")
    args = ap.parse_args()
    tables, metas = pc.read_report(args.input)
    rows = pc.table(tables, "quantizers", args.input, hint="run scripts/train.py")
    meta = metas.get("quantizers", {})
    if "parameters" not in meta or "workers" not in meta:
        sys.exit(f"{args.input}: no 'parameters' and 'workers' in the meta line (not train.py's)")
    if not any(math.isfinite(r["test_accuracy"]) for r in rows):
        sys.exit(f"{args.input}: no accuracy to show")
    if args.summary:
        summary(rows, meta)
    elif args.output:
        plot(rows, meta, args.output)
    else:
        sys.exit("plot_training.py: give -o PNG or --summary")


if __name__ == "__main__":
    main()
