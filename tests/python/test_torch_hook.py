"""gradquant.torch's DDP hook in a real 2-process gloo run on localhost: every rank holds the
same parameters after every step, the gradient DDP applies is what the same round gives with
both workers in one process (gradquant.Chain on the recorded raw gradients), and the counted
bits are those messages' bits. Skipped when torch is not installed."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import gradquant as gq

try:
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import gradquant.torch as gqt
except ImportError:  # pragma: no cover - torch is optional
    torch = None

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STEPS = 4
SPEC, EF, SEED = "topk:kappa=0.1", "classic", 5


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(12, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def run_rank(rank, port, folder):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.set_num_threads(1)
    ddp = torch.nn.parallel.DistributedDataParallel(model())
    state = gqt.State(ddp, seed=SEED, record_steps=range(STEPS),
                      record_path=os.path.join(folder, "raw.h5"))
    ddp.register_comm_hook(state, gqt.hook(SPEC, ef=EF))
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(100 + rank)  # each rank its own data
    applied, bits, same = [], [], []
    for _ in range(STEPS):
        x = torch.randn(16, 12, generator=gen)
        y = torch.randint(0, 3, (16,), generator=gen)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(ddp(x), y).backward()
        applied.append([p.grad.detach().numpy().reshape(-1).copy() for p in ddp.parameters()])
        bits.append(state.last_uplink_bits)
        opt.step()
        flat = torch.cat([p.detach().reshape(-1) for p in ddp.parameters()])
        both = [torch.zeros_like(flat) for _ in range(2)]
        dist.all_gather(both, flat)
        same.append(bool(torch.equal(both[0], both[1])))
    state.close()
    np.savez(os.path.join(folder, f"rank{rank}.npz"), bits=np.array(bits), same=np.array(same),
             **{f"g{s}_{i}": g for s, grads in enumerate(applied) for i, g in enumerate(grads)})
    dist.destroy_process_group()


@unittest.skipIf(torch is None, "torch is not installed")
class TorchHookTest(unittest.TestCase):
    def test_two_gloo_ranks_agree_with_one_process_rounds(self):
        with tempfile.TemporaryDirectory() as folder:
            mp.spawn(run_rank, args=(free_port(), folder), nprocs=2, join=True)
            ranks = [np.load(os.path.join(folder, f"rank{r}.npz")) for r in range(2)]
            for r in ranks:
                self.assertTrue(r["same"].all(), "parameters differ across ranks")
            # Replay the recorded raw gradients with both workers in one process.
            dump = gq.Dump(os.path.join(folder, "raw.h5"))
            self.assertEqual(dump.steps, list(range(STEPS)))
            q = gq.Quantizer(SPEC)
            chains = [gq.Chain(q, layer, seed=SEED, workers=2, ef=EF) for layer in dump.layers]
            for step in range(STEPS):
                total = 0
                for li, chain in enumerate(chains):
                    rnd = chain.run(step, [dump.read(li, step, w) for w in range(2)])
                    total += rnd.bits
                    for r in ranks:
                        np.testing.assert_array_equal(r[f"g{step}_{li}"], rnd.decoded.aggregate)
                for r in ranks:
                    self.assertEqual(int(r["bits"][step]), total)

    def test_readme_example_runs_as_written(self):
        readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
        block = readme.split("<!-- example: ddp -->\n```python\n", 1)[1].split("\n```", 1)[0]
        with tempfile.TemporaryDirectory() as folder:
            script = os.path.join(folder, "ddp.py")
            with open(script, "w", encoding="utf-8") as f:
                f.write(block)
            out = subprocess.run([sys.executable, script], capture_output=True, text=True,
                                 timeout=300, env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"^5 steps, [1-9][0-9]* uplink bits$")

    def test_bad_input_gives_clear_python_errors(self):
        with self.assertRaisesRegex(gq.SpecError, "server between two sends"):
            gqt.hook("powersgd")
        with self.assertRaisesRegex(gq.SpecError, "error feedback 'bogus'"):
            gqt.hook("topk", ef="bogus")
        with self.assertRaisesRegex(gq.SpecError, "unknown quantizer"):
            gqt.hook("nosuch")


if __name__ == "__main__":
    unittest.main()
