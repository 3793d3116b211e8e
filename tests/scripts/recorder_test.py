#!/usr/bin/python3
"""scripts/record_gradients.py warns on stderr, naming the layer and step, when it writes NaN or
Inf, and stays quiet otherwise. Run by ctest: recorder_test.py GRADQUANT_BINARY (unused)."""
import contextlib
import io
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "scripts"))
from record_gradients import GradientRecorder  # noqa: E402


class RecorderWarnings(unittest.TestCase):
    def test_nonfinite_values_are_written_with_one_warning_per_layer_and_step(self):
        d = tempfile.mkdtemp(prefix="gq_rec_")
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                with GradientRecorder(os.path.join(d, "r.h5"), workers=2) as rec:
                    ok = {"conv.weight": np.ones(3), "fc.bias": np.ones(2)}
                    rec.record(0, [ok, ok])
                    self.assertEqual(err.getvalue(), "")
                    rec.record(7, [{"conv.weight": [1.0, np.nan, np.inf], "fc.bias": [1.0, 1.0]},
                                   {"conv.weight": [np.nan, 1.0, 1.0], "fc.bias": [-np.inf, 0]}])
            lines = err.getvalue().strip().split("\n")
            self.assertEqual(len(lines), 2, err.getvalue())
            self.assertIn("step 7 (record 1), layer conv.weight: 2 NaN and 1 Inf", lines[0])
            self.assertIn("first: worker 0, index 1", lines[0])
            self.assertIn("step 7 (record 1), layer fc.bias: 0 NaN and 1 Inf", lines[1])
            self.assertIn("first: worker 1, index 0", lines[1])
            self.assertIn("--nonfinite zero", lines[0])
            self.assertTrue(os.path.isfile(os.path.join(d, "r.h5")))  # still written
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    sys.argv.pop(1) if len(sys.argv) > 1 else None
    unittest.main()
