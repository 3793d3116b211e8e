#!/usr/bin/python3
"""Train on Fashion-MNIST with W data-parallel workers whose gradients go through gradquant's
quantizers (exact bits), and report accuracy against bits sent (docs/training.md).

    PYTHONPATH=build/python /usr/bin/python3 scripts/train.py -q fp32 -q tnq:bits=2 \\
        --ef none --steps 300 --seeds 0,1,2 --format csv > runs.csv

Workers are simulated in one process (the default: fast, deterministic), or real processes on
localhost (--processes: torch.distributed with gloo and gradquant.torch's DDP hook). Both give
the same updates for the same seed (a test checks it): every worker draws its minibatches from
its own shard with its own generator, and the round is gradquant.Chain's either way.

One row per evaluation: quantizer, ef, model, partition, lr, seed, step, epoch, uplink_bits and
downlink_bits (cumulative, exact), train_loss (mean over workers, over the steps since the
last evaluation), test_accuracy, wall_seconds. A progress line goes to stderr.
"""
import argparse
import json
import math
import os
import socket
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from example_fashion_mnist import SmallCNN, load  # noqa: E402

import gradquant as gq  # noqa: E402
import gradquant.torch as gqt  # noqa: E402

COLUMNS = ["quantizer", "ef", "model", "partition", "lr", "seed", "step", "epoch", "uplink_bits",
           "downlink_bits", "train_loss", "test_accuracy", "wall_seconds"]


class PatchViT(nn.Module):
    """A small vision transformer: 7x7 patches (16 tokens), learned positions, a class token,
    `depth` pre-norm encoder layers of width `dim`, a linear head."""

    def __init__(self, dim=32, depth=2, heads=2):
        super().__init__()
        self.embed = nn.Linear(49, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 17, dim))
        layer = nn.TransformerEncoderLayer(dim, heads, 2 * dim, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.head = nn.Linear(dim, 10)

    def forward(self, x):
        patches = x.unfold(2, 7, 7).unfold(3, 7, 7).reshape(x.shape[0], 16, 49)
        tokens = torch.cat([self.cls.expand(x.shape[0], -1, -1), self.embed(patches)], 1)
        return self.head(self.encoder(tokens + self.pos)[:, 0])


def make_model(name, seed):
    torch.manual_seed(seed)
    if name == "cnn":
        return SmallCNN(100)
    if name == "vit":
        return PatchViT()
    raise SystemExit(f"train.py: --model {name}: expected cnn or vit")


def partition(labels, workers, kind, seed):
    """Each worker's training indices: iid (a random 1/W each) or noniid (label-skewed: the
    indices sorted by label, cut into 2W pieces, two random pieces per worker)."""
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(len(labels), generator=gen)
    if kind == "iid":
        return [perm[w::workers] for w in range(workers)]
    if kind != "noniid":
        raise SystemExit(f"train.py: --partition {kind}: expected iid or noniid")
    by_label = perm[torch.argsort(labels[perm], stable=True)]
    pieces = torch.chunk(by_label, 2 * workers)
    order = torch.randperm(2 * workers, generator=gen).tolist()
    return [torch.cat([pieces[order[2 * w]], pieces[order[2 * w + 1]]]) for w in range(workers)]


class Shard:
    """One worker's indices, reshuffled every pass with the worker's own generator."""

    def __init__(self, indices, seed, worker):
        self.indices, self.pos = indices, len(indices)
        self.gen = torch.Generator().manual_seed(1000003 * seed + worker + 1)

    def next(self, batch):
        if self.pos + batch > len(self.indices):
            self.indices = self.indices[torch.randperm(len(self.indices), generator=self.gen)]
            self.pos = 0
        out = self.indices[self.pos:self.pos + batch]
        self.pos += batch
        return out


def learning_rate(args, step):
    """Linear warm-up over --warmup steps, then cosine decay to 0 at --steps."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.lr * 0.5 * (1 + math.cos(math.pi * t))


def accuracy(model, x, y):
    with torch.no_grad():
        return sum((model(x[i:i + 2000]).argmax(1) == y[i:i + 2000]).sum().item()
                   for i in range(0, len(y), 2000)) / len(y)


class Progress:
    def __init__(self, label, total):
        self.label, self.total, self.tty = label, total, sys.stderr.isatty()

    def show(self, done):
        if self.tty:
            print(f"\r{self.label} {done}/{self.total}", end="", file=sys.stderr, flush=True)

    def close(self):
        if self.tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)


def run_simulated(args, spec, ef, seed, data, emit):
    """All W workers in this process; each layer's round is gradquant.Chain.run."""
    x_train, y_train, x_test, y_test = data
    model = make_model(args.model, seed)
    params = [p for p in model.parameters() if p.requires_grad]
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    q = gq.Quantizer(spec)
    chains = [gq.Chain(q, gq.Layer(n, tuple(p.shape), i), seed, args.workers, ef)
              for i, (n, p) in enumerate(zip(names, params))]
    shards = [Shard(s, seed, w) for w, s in
              enumerate(partition(y_train, args.workers, args.partition, seed))]
    opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    up = down = 0
    losses, start = [], time.time()
    progress = Progress(f"train {spec}", args.steps)
    for step in range(args.steps):
        grads = []
        for shard in shards:
            idx = shard.next(args.batch_size)
            model.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
            loss.backward()
            grads.append([p.grad.detach().reshape(-1).clone() for p in params])
            losses.append(loss.item())
        for i, (p, chain) in enumerate(zip(params, chains)):
            rnd = chain.run(step, [g[i].numpy() for g in grads])
            up += rnd.bits
            down += rnd.decoded.downlink_bits
            p.grad = torch.from_numpy(rnd.decoded.aggregate).view_as(p)
        for group in opt.param_groups:
            group["lr"] = learning_rate(args, step)
        opt.step()
        progress.show(step + 1)
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            emit(spec, ef, seed, step + 1, up, down, float(np.mean(losses)),
                 accuracy(model, x_test, y_test), time.time() - start)
            losses = []
    progress.close()
    return model


def rank_main(rank, args, spec, ef, seed, port, out_path):
    """One real worker process (DDP over gloo, gradquant.torch's hook)."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=args.workers)
    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")
    model = make_model(args.model, seed)
    ddp = nn.parallel.DistributedDataParallel(model)
    state = gqt.State(ddp, seed=seed)
    ddp.register_comm_hook(state, gqt.hook(spec, ef=ef))
    shard = Shard(partition(y_train, args.workers, args.partition, seed)[rank], seed, rank)
    opt = torch.optim.SGD(ddp.parameters(), lr=args.lr, momentum=args.momentum)
    rows, losses, start = [], [], time.time()
    for step in range(args.steps):
        idx = shard.next(args.batch_size)
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(ddp(x_train[idx]), y_train[idx])
        loss.backward()
        everyone = [torch.zeros(1) for _ in range(args.workers)]
        dist.all_gather(everyone, loss.detach().reshape(1))
        losses.extend(float(v) for v in everyone)
        for group in opt.param_groups:
            group["lr"] = learning_rate(args, step)
        opt.step()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            rows.append((step + 1, state.uplink_bits, state.downlink_bits,
                         float(np.mean(losses)), accuracy(model, x_test, y_test),
                         time.time() - start))
            losses = []
    if rank == 0:
        torch.save({"rows": rows, "params": [p.detach() for p in model.parameters()]}, out_path)
    dist.destroy_process_group()


def run_processes(args, spec, ef, seed, emit, folder):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out_path = os.path.join(folder, f"rank0-{os.getpid()}.pt")
    mp.spawn(rank_main, args=(args, spec, ef, seed, port, out_path), nprocs=args.workers)
    result = torch.load(out_path)
    os.remove(out_path)
    for row in result["rows"]:
        emit(spec, ef, seed, *row)
    model = make_model(args.model, seed)
    with torch.no_grad():
        for p, v in zip(model.parameters(), result["params"]):
            p.copy_(v)
    return model


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-q", "--quantizer", action="append", required=True,
                    help="quantizer spec; repeat for several")
    ap.add_argument("--ef", default="none", help="error feedback modes, a list: none,classic,ef21")
    ap.add_argument("--model", default="cnn", help="cnn (the sample's) or vit")
    ap.add_argument("--partition", default="iid", help="iid or noniid (label-skewed)")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32, help="per worker")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=100)
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=20, help="steps of linear warm-up")
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seeds", default="0", help="a list: 0,1,2")
    ap.add_argument("--processes", action="store_true",
                    help="real worker processes (gloo, DDP hook) instead of simulated ones")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--format", default="csv", help="csv or json")
    ap.add_argument("--save-params", help="write the last run's final parameters (.npz)")
    args = ap.parse_args()
    if args.format not in ("csv", "json"):
        raise SystemExit(f"train.py: --format {args.format}: expected csv or json")
    seeds = [int(s) for s in args.seeds.split(",")]
    efs = args.ef.split(",")
    for spec in args.quantizer:
        for ef in efs:
            gq.Chain(gq.Quantizer(spec), gq.Layer("check", (1,)), 0, args.workers, ef)
    torch.set_num_threads(1)  # the same floats in both modes; workers, not threads, in parallel

    rows = []

    def emit(spec, ef, seed, step, up, down, loss, acc, wall):
        epoch = step * args.batch_size * args.workers / 60000
        row = [gq.Quantizer(spec).spec, ef, args.model, args.partition, args.lr, seed, step,
               round(epoch, 6), up, down, loss, acc, round(wall, 3)]
        rows.append(row)
        if args.format == "csv":
            print(",".join(f'"{v}"' if isinstance(v, str) and "," in v else str(v) for v in row),
                  flush=True)

    meta = {"gradquant": gq.__version__, "command": "train", "workers": args.workers,
            "batch_size": args.batch_size, "steps": args.steps, "lr": args.lr,
            "warmup": args.warmup, "momentum": args.momentum,
            "mode": "processes" if args.processes else "simulated",
            "parameters": sum(p.numel() for p in make_model(args.model, 0).parameters())}
    if args.format == "csv":
        print("# " + " ".join(f"{k}={v}" for k, v in meta.items()))
        print(",".join(COLUMNS), flush=True)
    data = (*load(args.data, "train"), *load(args.data, "t10k"))
    model = None
    for spec in args.quantizer:
        for ef in efs:
            for seed in seeds:
                if args.processes:
                    model = run_processes(args, spec, ef, seed, emit,
                                          os.environ.get("TMPDIR", "/tmp"))
                else:
                    model = run_simulated(args, spec, ef, seed, data, emit)
    if args.save_params and model is not None:
        np.savez(args.save_params, *[p.detach().numpy() for p in model.parameters()])
    if args.format == "json":
        print(json.dumps({"meta": meta, "rows": [dict(zip(COLUMNS, r)) for r in rows]}))


if __name__ == "__main__":
    main()
