#!/usr/bin/python3
"""Writes a large synthetic gradient dump (docs/format.md, version 1) for speed and memory tests.

Every slab is i.i.d. Laplace(0, b) with a per-layer scale, written one (record, worker, layer)
slab at a time, so the script itself needs only one slab of memory whatever the dump's size.

Layer shapes come from --layers ("name=8x1x5x5,name2=100") or from an existing dump scaled up
(--like DUMP --scale F multiplies every layer's first extent by F, e.g. the sample dump's
conv1.weight 8x1x5x5 becomes 80x1x5x5 at F = 10).

Examples:
  # the sample dump's layers, 40x wider, 6 records, 4 workers (about 1 GB)
  /usr/bin/python3 scripts/make_big_dump.py /tmp/big.h5 --like data/fmnist_cnn.h5 --scale 40
  # 3 GB of uncompressed 1 MiB chunks: 12 layers of 4M values, 4 records, 4 workers
  /usr/bin/python3 scripts/make_big_dump.py /tmp/huge.h5 --layers $(python3 -c \
      "print(','.join(f'l{i}=2048x2048' for i in range(12)))") --records 4 --workers 4
  # the same data deflated (level 4)
  ... --gzip 4

Needs Debian's python3-h5py and python3-numpy (hence /usr/bin/python3).
"""
import argparse
import sys

import h5py
import numpy as np


def parse_layers(text):
    layers = []
    for item in text.split(","):
        name, _, shape = item.partition("=")
        if not name or not shape:
            sys.exit(f"--layers: expected name=AxB..., got '{item}'")
        dims = [int(d) for d in shape.split("x")]
        if any(d <= 0 for d in dims):
            sys.exit(f"--layers: non-positive extent in '{item}'")
        layers.append((name, dims))
    return layers


def layers_like(path, scale):
    with h5py.File(path, "r") as f:
        grads = f["gradients"]
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in grads.attrs.get("order", sorted(grads.keys()))]
        layers = []
        for name in names:
            ds = grads[name]
            shape = [int(d) for d in ds.attrs.get("shape", [ds.shape[2]])]
            shape[0] = max(1, int(round(shape[0] * scale)))
            layers.append((name, shape))
    return layers


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("output")
    p.add_argument("--layers", help="name=AxBx...,name2=... (model order)")
    p.add_argument("--like", help="take the layer names and shapes from this dump")
    p.add_argument("--scale", type=float, default=1.0,
                   help="with --like: multiply each layer's first extent by this")
    p.add_argument("--records", type=int, default=6)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--chunk", type=int, default=262144,
                   help="chunk length along N: chunks are (1, 1, min(N, chunk))")
    p.add_argument("--gzip", type=int, default=0, help="deflate level 1-9 (0: uncompressed)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    if (args.layers is None) == (args.like is None):
        sys.exit("give exactly one of --layers and --like")
    layers = parse_layers(args.layers) if args.layers else layers_like(args.like, args.scale)
    rng = np.random.default_rng(args.seed)
    total = 0
    with h5py.File(args.output, "w") as f:
        f.attrs["gradquant_format"] = "gradients"
        f.attrs["gradquant_version"] = 1
        f.attrs["workers"] = args.workers
        f.attrs["model"] = "synthetic Laplace (scripts/make_big_dump.py)"
        f.create_dataset("steps", data=np.arange(args.records, dtype=np.int64) * 100)
        grads = f.create_group("gradients")
        grads.attrs["order"] = np.array([n for n, _ in layers], dtype=h5py.string_dtype())
        for index, (name, shape) in enumerate(layers):
            n = int(np.prod(shape))
            ds = grads.create_dataset(
                name, shape=(args.records, args.workers, n), dtype="f4",
                chunks=(1, 1, min(n, args.chunk)),
                compression="gzip" if args.gzip else None,
                compression_opts=args.gzip if args.gzip else None)
            ds.attrs["shape"] = np.array(shape, dtype=np.int64)
            scale = 10.0 ** -(1 + index % 3)  # layers differ in size, as real ones do
            for r in range(args.records):
                for w in range(args.workers):
                    ds[r, w, :] = rng.laplace(0.0, scale, n).astype(np.float32)
            total += 4 * n * args.records * args.workers
    print(f"{args.output}: {len(layers)} layers, {args.records} records, {args.workers} workers, "
          f"{total / 1e9:.2f} GB of float32 gradients")


if __name__ == "__main__":
    main()
