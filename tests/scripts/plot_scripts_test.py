#!/usr/bin/python3
"""The plot scripts and plot_common on real reports: every script on the CSV and the JSON of
every subcommand it accepts (made by the real binary from data/fmnist_cnn.h5), and the one-line
errors for the wrong input. Run by ctest: plot_scripts_test.py GRADQUANT_BINARY."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPTS = os.path.join(ROOT, "scripts")
SAMPLE = os.path.join(ROOT, "data", "fmnist_cnn.h5")
PYTHON = "/usr/bin/python3"
GQ = None  # set in main
sys.path.insert(0, SCRIPTS)
import plot_common as pc  # noqa: E402

# Reports each script accepts; a few trials and records keep the test fast.
QUANT = "-q dqsg:s=3 -q qsgd:s=4 -q qsgd:s=7,bucket=512 --trials 2 --records 0:2"
REPORTS = {
    "plot_rate_distortion.py": [f"analyze {QUANT} --by all", f"analyze {QUANT}"],
    "plot_bounds.py": [f"analyze {QUANT}", f"analyze {QUANT} --by record --report quantizers"],
    "plot_correlation.py": ["analyze --stats", "analyze --stats --by all",
                            f"analyze {QUANT} --by record"],
    "plot_thresholds.py": ["optimize --curve fc1.weight --bits 3 --records 1 --trials 2 "
                           "--curve-points 9"],
}


def gradquant(args, fmt):
    run = subprocess.run(f"{GQ} {args.split()[0]} {SAMPLE} {' '.join(args.split()[1:])} "
                         f"--format {fmt}", shell=True, capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        raise AssertionError(f"gradquant {args} --format {fmt}: exit {run.returncode}: {run.stderr}")
    return run.stdout


def plot(script, report_text, out, *extra):
    return subprocess.run([PYTHON, os.path.join(SCRIPTS, script), "-", "-o", out, *extra],
                          input=report_text, capture_output=True, text=True)


class PlotScripts(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="gq_plot_")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def assertPng(self, path):
        self.assertTrue(os.path.isfile(path), path)
        self.assertGreater(os.path.getsize(path), 1000, path)
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n", path)

    def assertOneLineError(self, run):
        self.assertNotEqual(run.returncode, 0)
        self.assertNotIn("Traceback", run.stderr)
        self.assertEqual(len(run.stderr.strip().splitlines()), 1, run.stderr)

    def test_every_script_on_csv_and_json_of_every_accepted_report(self):
        for script, reports in REPORTS.items():
            for i, args in enumerate(reports):
                for fmt in ("csv", "json"):
                    with self.subTest(script=script, report=args, format=fmt):
                        out = os.path.join(self.dir, f"{script}-{i}-{fmt}.png")
                        run = plot(script, gradquant(args, fmt), out)
                        self.assertEqual(run.returncode, 0, run.stderr)
                        self.assertNotIn("Traceback", run.stderr)
                        self.assertPng(out)

    def test_correlation_pages_every_panel(self):
        # --by record: 8 layers x 6 records = 48 panels, 12 per page -> 4 files, all listed.
        report = gradquant("analyze --stats --by record", "csv")
        out = os.path.join(self.dir, "corr.png")
        run = plot("plot_correlation.py", report, out)
        self.assertEqual(run.returncode, 0, run.stderr)
        pages = [out] + [os.path.join(self.dir, f"corr-{p}.png") for p in (2, 3, 4)]
        for page in pages:
            self.assertPng(page)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "corr-5.png")))
        self.assertIn("48 panels on 4 pages", run.stderr)
        for page in pages:
            self.assertIn(page, run.stderr)
        # One page when they fit.
        run = plot("plot_correlation.py", report, os.path.join(self.dir, "one.png"),
                   "--per-page", "48")
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "one-2.png")))

    def test_wrong_inputs_give_one_line_errors_and_no_file(self):
        thresholds = gradquant("optimize --part thresholds --records 0 --trials 1 --layers fc2",
                               "csv")
        cases = [
            ("plot_thresholds.py", thresholds),  # the table, not a --curve
            ("plot_thresholds.py", gradquant("optimize --part thresholds --records 0 --trials 1 "
                                             "--layers fc2", "json")),
            ("plot_thresholds.py", gradquant("analyze --stats --records 0", "csv")),
            ("plot_correlation.py", gradquant(f"analyze {QUANT} --report quantizers", "json")),
            ("plot_bounds.py", gradquant("analyze --stats --records 0", "csv")),
            ("plot_rate_distortion.py", gradquant("analyze --stats --records 0", "json")),
            ("plot_thresholds.py", ""),
            ("plot_correlation.py", "not a report\n1,2,3\n4\n"),
            ("plot_bounds.py", "{not json"),
        ]
        for script, text in cases:
            with self.subTest(script=script, text=text[:40]):
                out = os.path.join(self.dir, "x.png")
                run = plot(script, text, out)
                self.assertOneLineError(run)
                self.assertFalse(os.path.exists(out))
        missing = os.path.join(self.dir, "missing.csv")
        for script in REPORTS:
            with self.subTest(script=script, case="missing file"):
                run = subprocess.run([PYTHON, os.path.join(SCRIPTS, script), missing, "-o",
                                      os.path.join(self.dir, "y.png")], capture_output=True,
                                     text=True)
                self.assertOneLineError(run)
                self.assertIn("missing.csv", run.stderr)

    def test_output_is_required(self):
        for script in REPORTS:
            with self.subTest(script=script):
                run = subprocess.run([PYTHON, os.path.join(SCRIPTS, script), "-"], input="",
                                     capture_output=True, text=True, cwd=self.dir)
                self.assertEqual(run.returncode, 2)  # argparse's usage error
                self.assertIn("-o", run.stderr)
                self.assertEqual(os.listdir(self.dir), [])


class Reports(unittest.TestCase):
    def test_read_tables_keeps_optimize_tables_apart(self):
        args = "optimize --records 0 --layers fc2 --trials 1 --bits 2,3 --budget 1,2"
        for fmt in ("csv", "json"):
            with self.subTest(format=fmt):
                path = os.path.join(tempfile.gettempdir(), f"gq_opt_{os.getpid()}.{fmt}")
                with open(path, "w") as f:
                    f.write(gradquant(args, fmt))
                try:
                    tables, metas = pc.read_report(path)
                finally:
                    os.remove(path)
                self.assertEqual(sorted(tables), ["frontier", "thresholds"])
                self.assertEqual(len(tables["thresholds"]), 2 * 2)  # 2 layers x 2 bits
                self.assertTrue(all("alpha_closed" in r for r in tables["thresholds"]))
                self.assertTrue(all("family" in r for r in tables["frontier"]))
                self.assertEqual(float(metas["thresholds"]["trials"]), 1.0)

    def test_meta_survives_spaces_quotes_and_newlines(self):
        d = tempfile.mkdtemp(prefix="gq meta ")
        try:
            for name in ('my "dump" 1.h5', "two\nlines.h5", "back\\slash.h5"):
                with self.subTest(name=name):
                    path = os.path.join(d, name)
                    shutil.copy(SAMPLE, path)
                    run = subprocess.run([GQ, "info", path, "--format", "csv"],
                                         capture_output=True, text=True)
                    self.assertEqual(run.returncode, 0, run.stderr)
                    first = run.stdout.split("\n")[0]
                    self.assertTrue(first.startswith("# "))
                    meta = pc.parse_meta_line(first)
                    self.assertEqual(meta["inputs"], path)
                    self.assertEqual(meta["records"], "6")
                    self.assertEqual(meta["command"], "info")
                    # The rest of the report is one header and nine rows.
                    self.assertEqual(len(run.stdout.strip().split("\n")), 11)
        finally:
            shutil.rmtree(d)

    def test_json_meta_is_typed(self):
        data = json.loads(gradquant("analyze -q dqsg --trials 3 --seed 7 --records 0 --by all",
                                    "json"))
        meta = data["quantizers"]["meta"]
        self.assertEqual(meta["seed"], 7)
        self.assertEqual(meta["trials"], 3)
        self.assertEqual(meta["workers"], 4)
        self.assertIsInstance(meta["gradquant"], str)
        info = json.loads(gradquant("info --records 2:4", "json"))["meta"]
        self.assertEqual(info["records"], 2)
        self.assertEqual(info["records_in_dump"], 6)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: plot_scripts_test.py GRADQUANT_BINARY [unittest args]")
    GQ = sys.argv.pop(1)
    unittest.main()
