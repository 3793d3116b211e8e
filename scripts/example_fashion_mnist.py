"""Train a small CNN on Fashion-MNIST with simulated data-parallel workers and
record every worker's gradient at a few steps (gradquant dump, docs/format.md v1).

Each worker owns a fixed iid shard of the training set (a random 1/W of it) and
draws its own minibatch from it every step. All workers share the model; the
update applies the mean of their gradients, exactly what synchronous
data-parallel SGD does. The recorded gradients are the raw per-worker
minibatch gradients, before averaging and before momentum: what a worker would
compress and send.

    /usr/bin/python3 scripts/example_fashion_mnist.py --out data/fmnist_cnn.h5

Needs torch, numpy, h5py and the Fashion-MNIST idx files (Debian package
dataset-fashion-mnist); no downloads.
"""

import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from record_gradients import GradientRecorder  # noqa: E402

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST training-set pixel statistics


def read_idx(path):
    """Read a gzipped idx file (big-endian header, uint8 payload) into numpy."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = np.frombuffer(data, dtype=">u4", count=ndim, offset=4)
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(folder, split):
    images = read_idx(os.path.join(folder, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz"))
    x = (torch.from_numpy(images.astype(np.float32) / 255.0) - MEAN) / STD
    return x.unsqueeze(1), torch.from_numpy(labels.astype(np.int64))


class SmallCNN(nn.Module):
    """LeNet-like: 28x28 -> conv5 -> 24 -> pool -> 12 -> conv5 -> 8 -> pool -> 4."""

    def __init__(self, hidden):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5)
        self.conv2 = nn.Conv2d(8, 16, 5)
        self.fc1 = nn.Linear(16 * 4 * 4, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class Shard:
    """One worker's slice of the training set, reshuffled every pass."""

    def __init__(self, indices, generator):
        self.indices, self.gen, self.pos = indices, generator, len(indices)

    def next(self, batch):
        if self.pos + batch > len(self.indices):  # drop the tail, start a new pass
            self.indices = self.indices[torch.randperm(len(self.indices), generator=self.gen)]
            self.pos = 0
        out = self.indices[self.pos:self.pos + batch]
        self.pos += batch
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="data/fmnist_cnn.h5")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist",
                    help="folder with the Fashion-MNIST *-idx?-ubyte.gz files")
    ap.add_argument("--steps", type=int, default=300, help="training steps")
    ap.add_argument("--record-every", type=int, default=50,
                    help="record at steps 0, N, 2N, ... below --steps")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=32, help="per worker")
    ap.add_argument("--lr", type=float, default=0.05)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--hidden", type=int, default=100, help="fc1 width")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--deterministic", action="store_true",
                    help="one thread, torch's deterministic kernels and no oneDNN, so the "
                         "same command repeats its floats (slower; data/README.md)")
    args = ap.parse_args()

    # The seed fixes the data order and the initial weights, not the float results: with
    # several threads torch splits reductions (convolution and matmul backward) differently
    # from run to run, and float addition is not associative (data/README.md).
    torch.manual_seed(args.seed)
    if args.deterministic:
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True)
        torch.backends.mkldnn.enabled = False
    else:
        torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.time()
    x_train, y_train = load(args.data, "train")
    x_test, y_test = load(args.data, "t10k")

    W = args.workers
    perm = torch.randperm(len(y_train), generator=gen)
    shards = [Shard(perm[w::W], gen) for w in range(W)]  # iid: disjoint random slices

    model = SmallCNN(args.hidden)
    params = list(model.parameters())
    opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
    n_params = sum(p.numel() for p in params)
    print(f"model: {n_params} parameters; {W} workers x batch {args.batch_size}", file=sys.stderr)

    attrs = {
        "model": f"SmallCNN: conv1 8x1x5x5, conv2 16x8x5x5 (ReLU, 2x2 max-pool each), "
                 f"fc1 256->{args.hidden} ReLU, fc2 {args.hidden}->10; {n_params} parameters",
        "dataset": "fashion-mnist",
        "partition": "iid",
        "batch_size": args.batch_size,
        "lr": args.lr,
        "optimizer": f"SGD momentum {args.momentum} on the mean of the worker gradients, "
                     f"no weight decay; recorded gradients are raw per-worker "
                     f"minibatch gradients (before averaging and momentum)",
        "seed": args.seed,
        "steps_trained": args.steps,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with GradientRecorder(args.out, model, workers=W, attrs=attrs) as rec:
        running = None
        for step in range(args.steps):
            grads, losses = [], []
            for shard in shards:
                idx = shard.next(args.batch_size)
                model.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
                loss.backward()
                grads.append([p.grad.detach().clone() for p in params])
                losses.append(loss.item())

            if step % args.record_every == 0:
                rec.record(step, grads, losses)

            for i, p in enumerate(params):
                p.grad = torch.stack([g[i] for g in grads]).mean(0)
            opt.step()

            mean_loss = float(np.mean(losses))
            running = mean_loss if running is None else 0.9 * running + 0.1 * mean_loss
            if step % args.record_every == 0 or step == args.steps - 1:
                tag = "  [recorded]" if step % args.record_every == 0 else ""
                print(f"step {step:5d}  train loss {mean_loss:.4f}  (smoothed {running:.4f}){tag}",
                      file=sys.stderr)

    with torch.no_grad():
        acc = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(f"test accuracy {acc:.4f}; wrote {args.out} ({rec.records} records) "
          f"in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
