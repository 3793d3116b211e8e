#!/usr/bin/python3
"""Time per training step of a 2-rank DDP run (gloo, CPU, one thread per rank) with PyTorch's
default all-reduce and with gradquant.torch's hook, side by side in one run.

  PYTHONPATH=build/python /usr/bin/python3 bench/ddp_hook.py --steps 200

The model is the sample's CNN (30,134 parameters, scripts/example_fashion_mnist.py), batch 32
per rank on random inputs. Each configuration runs the same steps after the same warm-up; the
table gives the median step time over the timed steps, and for the hook the share of it spent
in gradquant (encoding before the exchange, decoding after), measured inside the hook.
"""
import argparse
import os
import socket
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from example_fashion_mnist import SmallCNN  # noqa: E402

import gradquant.torch as gqt  # noqa: E402


def rank_main(rank, port, specs, steps, warmup, results):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    gen = torch.Generator().manual_seed(rank)
    x = torch.randn(32, 1, 28, 28, generator=gen)
    y = torch.randint(0, 10, (32,), generator=gen)
    for spec in specs:
        torch.manual_seed(0)
        ddp = torch.nn.parallel.DistributedDataParallel(SmallCNN(100))
        hook_seconds = []
        if spec != "allreduce":
            state = gqt.State(ddp)
            inner = gqt.hook(spec, ef="classic" if spec.startswith("topk") else "none")

            def timed(state, bucket, inner=inner):
                t = time.perf_counter()
                fut = inner(state, bucket)
                hook_seconds.append(time.perf_counter() - t)
                return fut

            ddp.register_comm_hook(state, timed)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.01)
        times = []
        for step in range(warmup + steps):
            dist.barrier()
            t = time.perf_counter()
            opt.zero_grad()
            F.cross_entropy(ddp(x), y).backward()
            opt.step()
            if step >= warmup:
                times.append(time.perf_counter() - t)
        if rank == 0:
            results[spec] = (statistics.median(times),
                             statistics.median(hook_seconds[warmup:]) if hook_seconds else None)
    dist.destroy_process_group()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("-q", "--quantizer", action="append",
                    help="hook specs (default: fp32, tnq:bits=2, qsgd:s=7,bucket=512, "
                         "topk:kappa=0.01 with classic EF, sign)")
    args = ap.parse_args()
    specs = ["allreduce"] + (args.quantizer or
                             ["fp32", "tnq:bits=2", "qsgd:s=7,bucket=512", "topk:kappa=0.01",
                              "sign"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with mp.Manager() as manager:
        results = manager.dict()
        mp.spawn(rank_main, args=(port, specs, args.steps, args.warmup, results), nprocs=2)
        base = results["allreduce"][0]
        print(f"{'exchange':28s} {'ms/step':>8s} {'x allreduce':>12s} {'hook ms':>8s}")
        for spec in specs:
            step, hook = results[spec]
            hook_ms = "" if hook is None else f"{1e3 * hook:8.2f}"
            print(f"{spec:28s} {1e3 * step:8.2f} {step / base:12.2f} {hook_ms:>8s}")


if __name__ == "__main__":
    main()
