"""The Python bindings against the CLI on the sample: the same bytes for the same (seed, step,
worker, layer), the same reconstructions, and the library's errors as Python exceptions.

    PYTHONPATH=build/python /usr/bin/python3 -m unittest discover -s tests/python -v

GRADQUANT_BINARY names the gradquant executable (ctest sets it)."""
import os
import subprocess
import sys
import tempfile
import unittest

import h5py
import numpy as np

import gradquant as gq

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SAMPLE = os.path.join(ROOT, "data", "fmnist_cnn.h5")
BINARY = os.environ.get("GRADQUANT_BINARY", os.path.join(ROOT, "build", "apps", "gradquant"))


def compress(spec, out, *extra):
    subprocess.run([BINARY, "compress", SAMPLE, "-q", spec, "-o", out, "--seed", "7", *extra],
                   check=True, stdout=subprocess.DEVNULL)


def stored_messages(path, name, record, workers):
    with h5py.File(path, "r") as f:
        bits = f["bits"][name][record]
        offsets = f["messages"][name]["offset"][record]
        data = f["messages"][name]["bytes"][...]
        aggregate = f["aggregate"][name][record]
    out = []
    for w in range(workers):
        length = (int(bits[w]) + 7) // 8
        at = int(offsets[w])
        out.append(gq.Message(data[at:at + length].tobytes(), int(bits[w])))
    return out, aggregate


class BindingsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dump = gq.Dump(SAMPLE)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_registry_lists_every_method_with_its_parameters(self):
        names = [q["name"] for q in gq.quantizers()]
        listed = subprocess.run([BINARY, "list", "--format", "csv"], check=True,
                                capture_output=True, text=True).stdout
        for name in names:
            self.assertIn("\n" + name + ",", listed)
        tnq = next(q for q in gq.quantizers() if q["name"] == "tnq")
        self.assertIn("bits", [p["key"] for p in tnq["params"]])

    def test_stateless_bytes_and_decode_equal_compress(self):
        for spec in ["dqsg:s=3", "tnq:bits=2", "topk:kappa=0.01", "qsgd:s=7,bucket=512", "sign"]:
            with self.subTest(spec=spec):
                out = os.path.join(self.tmp.name, "c.h5")
                compress(spec, out)
                q = gq.Quantizer(spec)
                d, W = self.dump, self.dump.workers
                for li in (0, 4):
                    layer = d.layers[li]
                    for r in (0, 5):
                        stored, aggregate = stored_messages(out, layer.name, r, W)
                        mine = [q.encode(d.read(li, r, w), layer, seed=7, step=d.steps[r],
                                         worker=w, workers=W) for w in range(W)]
                        self.assertEqual(mine, stored)
                        decoded = q.decode(stored, layer, seed=7, step=d.steps[r])
                        np.testing.assert_array_equal(decoded.aggregate, aggregate)

    def test_chain_under_feedback_equals_compress_with_ef(self):
        # Stateful quantizers and error feedback: one Chain per layer, steps in order.
        for spec, ef in [("gradiveq:layers=all", "none"), ("topk:kappa=0.01", "classic"),
                         ("scaledsign", "ef21")]:
            with self.subTest(spec=spec, ef=ef):
                out = os.path.join(self.tmp.name, "e.h5")
                compress(spec, out, "--ef", ef)
                q = gq.Quantizer(spec)
                d, W = self.dump, self.dump.workers
                for li in (2, 5):
                    layer = d.layers[li]
                    chain = gq.Chain(q, layer, seed=7, workers=W, ef=ef)
                    for r, step in enumerate(d.steps):
                        result = chain.run(step, [d.read(li, r, w) for w in range(W)])
                        stored, aggregate = stored_messages(out, layer.name, r, W)
                        self.assertEqual(result.messages, stored)
                        np.testing.assert_array_equal(result.decoded.aggregate, aggregate)

    def test_one_rank_halves_equal_the_round(self):
        # encode per worker, then decode on "every rank": the round's messages and aggregate.
        q = gq.Quantizer("topk:kappa=0.05")
        d, W = self.dump, self.dump.workers
        layer = d.layers[4]
        together = gq.Chain(q, layer, seed=3, workers=W, ef="classic")
        ranks = [gq.Chain(q, layer, seed=3, workers=W, ef="classic") for _ in range(W)]
        for r, step in enumerate(d.steps):
            grads = [d.read(4, r, w) for w in range(W)]
            want = together.run(step, grads)
            sent = [ranks[w].encode(step, w, grads[w]) for w in range(W)]
            self.assertEqual(sent, want.messages)
            for rank in ranks:
                got = rank.decode(step, sent)
                np.testing.assert_array_equal(got.aggregate, want.decoded.aggregate)

    def test_errors_are_python_exceptions_with_the_library_message(self):
        layer = gq.Layer("w", (4, 5))
        q = gq.Quantizer("dqsg")
        with self.assertRaisesRegex(gq.SpecError, "unknown quantizer"):
            gq.Quantizer("nosuch")
        with self.assertRaisesRegex(TypeError, "float32"):
            q.encode(np.zeros(20), layer)
        with self.assertRaisesRegex(TypeError, "C-contiguous"):
            q.encode(np.zeros((20, 2), np.float32)[:, 0], layer)
        with self.assertRaisesRegex(gq.SpecError, "20 values|has 20"):
            q.encode(np.zeros(7, np.float32), layer)
        with self.assertRaisesRegex(gq.SpecError, "ef21"):
            gq.Chain(gq.Quantizer("sign"), layer, workers=2, ef="ef21")
        with self.assertRaisesRegex(gq.SpecError, "server between two sends"):
            gq.Chain(gq.Quantizer("powersgd"), layer, workers=2).encode(0, 0, np.zeros(20, np.float32))
        m = q.encode(np.ones(20, np.float32), layer)
        with self.assertRaises(gq.FormatError):
            q.decode([gq.Message(m.data[:2], 16)], layer)
        with self.assertRaisesRegex(gq.IoError, "nosuch.h5"):
            gq.Dump("/nonexistent/nosuch.h5")

    def test_docs_api_example_runs(self):
        text = open(os.path.join(ROOT, "docs", "python.md"), encoding="utf-8").read()
        block = text.split("## The API", 1)[1].split("```python\n", 1)[1].split("\n```", 1)[0]
        out = subprocess.run([sys.executable, "-c", block], capture_output=True, text=True,
                             env=dict(os.environ))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"^[0-9]+ [0-9]+ \(25600,\) exact$")

    def test_dump_writer_round_trips_and_appears_only_on_commit(self):
        path = os.path.join(self.tmp.name, "w.h5")
        layers = [gq.Layer("a", (3, 2), 0), gq.Layer("b", (4,), 1)]
        w = gq.DumpWriter(path, [0, 10], 2, layers, {"note": "test"})
        values = {}
        for li, layer in enumerate(layers):
            for r in range(2):
                for k in range(2):
                    v = np.arange(layer.n, dtype=np.float32) * (li + 1) + 10 * r + k
                    values[li, r, k] = v
                    w.write(li, r, k, v)
        self.assertFalse(os.path.exists(path))
        w.commit()
        d = gq.Dump(path)
        self.assertEqual(d.steps, [0, 10])
        for key, v in values.items():
            np.testing.assert_array_equal(d.read(*key), v)


if __name__ == "__main__":
    unittest.main()
