"""scripts/train.py: a short fixed-seed run learns (its loss goes down), and simulated workers
give exactly the updates of real worker processes (gloo, the DDP hook). Skipped without torch
or the Debian Fashion-MNIST files."""
import csv
import io
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = "/usr/share/datasets/fashion-mnist"

try:
    import torch  # noqa: F401
    HAVE = os.path.exists(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz"))
except ImportError:  # pragma: no cover
    HAVE = False


def train(*args):
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "train.py"), *args],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ))
    if out.returncode != 0:
        raise AssertionError(out.stderr)
    lines = [l for l in out.stdout.splitlines() if not l.startswith("#")]
    return list(csv.DictReader(io.StringIO("\n".join(lines))))


@unittest.skipUnless(HAVE, "torch or dataset-fashion-mnist is not installed")
class TrainTest(unittest.TestCase):
    def test_loss_goes_down_and_bits_add_up(self):
        rows = train("-q", "qsgd:s=7,bucket=512", "--workers", "2", "--steps", "40",
                     "--eval-every", "20", "--warmup", "1", "--lr", "0.05")
        self.assertEqual([int(r["step"]) for r in rows], [20, 40])
        self.assertLess(float(rows[1]["train_loss"]), float(rows[0]["train_loss"]))
        self.assertLess(int(rows[0]["uplink_bits"]), int(rows[1]["uplink_bits"]))
        self.assertGreater(float(rows[1]["test_accuracy"]), 0.3)

    def test_simulated_workers_equal_real_processes(self):
        with tempfile.TemporaryDirectory() as folder:
            runs = {}
            for mode in ("simulated", "processes"):
                path = os.path.join(folder, mode + ".npz")
                extra = ["--processes"] if mode == "processes" else []
                runs[mode] = (train("-q", "topk:kappa=0.05", "--ef", "classic", "--workers", "2",
                                    "--steps", "5", "--eval-every", "5", "--save-params", path,
                                    *extra), np.load(path))
            (rows_a, a), (rows_b, b) = runs["simulated"], runs["processes"]
            for key in ("uplink_bits", "downlink_bits", "train_loss", "test_accuracy"):
                self.assertEqual(rows_a[0][key], rows_b[0][key])
            for k in a.files:
                np.testing.assert_array_equal(a[k], b[k])


if __name__ == "__main__":
    unittest.main()
