#!/usr/bin/python3
"""Throughput of the usual compressors written the way GRACE writes them (PyTorch tensor ops on
CPU), as the reference gradquant's kernels are held against (bench/RESULTS.md).

GRACE (github.com/sands-lab/grace) implements each compressor as a handful of whole-tensor
PyTorch operations: for QSGD, a norm, |g|, a scale, floor, a uniform tensor, a compare, a sign
and a cast to int8, and the reverse to decompress. This script re-implements that style for the
methods gradquant also has, on the same synthetic Laplace(0, 1) float32 data as
`gradquant bench`, and prints GB/s of float32 input: the median of --repeat runs after one
warm-up, with torch pinned to --threads threads (1 by default, as `gradquant bench`).

Needs Debian's python3-torch (not a gradquant dependency; only this benchmark uses it).

  /usr/bin/python3 bench/grace_like.py --size 16777216 > /tmp/grace.csv
"""
import argparse
import math
import statistics
import sys
import time

import torch


def qsgd(s):
    def compress(g):
        norm = g.norm()
        level = g.abs() * (s / norm)
        low = level.floor()
        up = (torch.rand_like(g) < level - low).float()
        return ((low + up) * g.sign()).to(torch.int8), norm

    def decompress(c):
        q, norm = c
        return q.float() * (norm / s)

    return compress, decompress


def terngrad():
    def compress(g):
        scale = g.abs().max()
        keep = (torch.rand_like(g) * scale < g.abs()).to(torch.int8)
        return keep * g.sign().to(torch.int8), scale

    def decompress(c):
        t, scale = c
        return t.float() * scale

    return compress, decompress


def sign():
    def compress(g):
        return g >= 0

    def decompress(c):
        return c.float() * 2 - 1

    return compress, decompress


def onebit():
    def compress(g):
        mask = g >= 0
        pos = g[mask].mean()
        neg = g[~mask].mean()
        return mask, pos, neg

    def decompress(c):
        mask, pos, neg = c
        return torch.where(mask, pos, neg)

    return compress, decompress


def natural():
    def compress(g):
        sgn = g.sign().to(torch.int8)
        mag = g.abs()
        low = torch.pow(2.0, torch.floor(torch.log2(mag)))
        up = (torch.rand_like(g) * low < mag - low).float()
        exp = (torch.log2(low) + up).to(torch.int8)
        return sgn, exp

    def decompress(c):
        sgn, exp = c
        return sgn.float() * torch.pow(2.0, exp.float())

    return compress, decompress


def scatter(c):
    """The sparse methods' decompress: the kept values at their indices, zeros elsewhere."""
    values, idx, n = c
    return torch.zeros(n).scatter_(0, idx, values)


def topk(kappa):
    def compress(g):
        k = max(1, int(g.numel() * kappa))
        _, idx = torch.topk(g.abs(), k, sorted=False)
        return g[idx], idx, g.numel()

    return compress, scatter


def randk(kappa):
    def compress(g):
        k = max(1, int(g.numel() * kappa))
        idx = torch.randperm(g.numel())[:k]
        return g[idx] * (g.numel() / k), idx, g.numel()

    return compress, scatter


def powersgd(rank):
    def compress(g):
        m = g.view(int(math.isqrt(g.numel())), -1)
        q = torch.randn(m.shape[1], rank)
        p, _ = torch.linalg.qr(m @ q)
        return p, m.t() @ p

    def decompress(c):
        p, q = c
        return (p @ q.t()).flatten()

    return compress, decompress


METHODS = {
    "qsgd:s=7": qsgd(7),
    "terngrad": terngrad(),
    "sign": sign(),
    "onebit": onebit(),
    "natural": natural(),
    "topk:kappa=0.01": topk(0.01),
    "randk:kappa=0.01": randk(0.01),
    "powersgd:rank=2": powersgd(2),
}


def median_seconds(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=1 << 24, help="elements (a square for powersgd)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("-q", action="append", choices=sorted(METHODS), help="default: all")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    side = math.isqrt(args.size)
    g = torch.distributions.Laplace(0.0, 1.0).sample((side * side,)).float()
    gb = g.numel() * 4 / 1e9
    print(f"# torch {torch.__version__}, {args.threads} thread(s), n={g.numel()}")
    print("method,n,encode_gbps,decode_gbps")
    for name in args.q or METHODS:
        compress, decompress = METHODS[name]
        message = compress(g)
        enc = median_seconds(lambda: compress(g), args.repeat)
        dec = median_seconds(lambda: decompress(message), args.repeat)
        print(f"{name},{g.numel()},{gb / enc:.4f},{gb / dec:.4f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
