#!/usr/bin/python3
"""Every example command in README.md and docs/*.md still runs.

Each line of a ```sh block that starts with `build/apps/gradquant` (with its backslash
continuations) is run from the repository root through `bash -o pipefail`, with the binary
given on the command line and every `-o /tmp/...` or `-o docs/...` path moved into a
temporary folder; it must exit 0. For a command with `--format csv`, the backquoted names in
the first column of the next markdown table below the block (before the next heading), such
as `bits_per_coord` or `layer`, `n`, must be columns (or header keys) of its output.
Run by ctest: doc_commands_test.py GRADQUANT_BINARY.
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import plot_common as pc  # noqa: E402

NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


def commands(path):
    """(line number, command, column names of the table after it) for each example command."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() != "```sh":
            i += 1
            continue
        j = i + 1
        block = []
        while j < len(lines) and not lines[j].startswith("```"):
            block.append((j + 1, lines[j]))
            j += 1
        names = table_names(lines, j + 1)
        k = 0
        while k < len(block):
            number, text = block[k]
            while text.endswith("\\") and k + 1 < len(block):
                k += 1
                text = text[:-1] + " " + block[k][1].strip()
            if text.startswith("build/apps/gradquant"):
                out.append((number, text, names))
            k += 1
        i = j + 1
    return out


def table_names(lines, start):
    """Backquoted identifiers in the first column of the first table after `start` (before the
    next heading or code block)."""
    names, inside = [], False
    for line in lines[start:start + 40]:
        if line.startswith("#") or line.startswith("```"):
            break
        if line.startswith("|"):
            inside = True
            cells = line.split("|")
            if len(cells) > 2 and not set(cells[1].strip()) <= set("-: "):
                names += NAME.findall(cells[1])
        elif inside:
            break  # only the first table
    return [n for n in names if n not in ("column", "option")]


def rewrite(command, binary, tmp):
    command = command.replace("build/apps/gradquant", binary)
    return re.sub(r"(-o\s+)(/tmp/|docs/)(\S+)", lambda m: m.group(1) + os.path.join(tmp, m.group(3)),
                  command)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: doc_commands_test.py GRADQUANT_BINARY")
    binary = os.path.abspath(sys.argv[1])
    files = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
    failures, count = [], 0
    tmp = tempfile.mkdtemp(prefix="gq_docs_")
    try:
        for path in files:
            for number, command, names in commands(path):
                count += 1
                where = f"{os.path.relpath(path, ROOT)}:{number}"
                run = subprocess.run(["bash", "-o", "pipefail", "-c", rewrite(command, binary, tmp)],
                                     cwd=ROOT, capture_output=True, text=True)
                if run.returncode != 0:
                    failures.append(f"{where}: exit {run.returncode}: {command}\n    "
                                    f"{run.stderr.strip()[-300:]}")
                    continue
                if "--format csv" not in command or "|" in command or not names:
                    continue
                report = os.path.join(tmp, "report.csv")
                with open(report, "w", encoding="utf-8") as f:
                    f.write(run.stdout)
                tables, metas = pc.read_report(report)
                known = set()
                for name, rows in tables.items():
                    known |= set(rows[0]) if rows else set()
                    known |= set(metas.get(name, {}))
                missing = [n for n in names if n not in known]
                if missing:
                    failures.append(f"{where}: the table below names {', '.join(missing)}, which "
                                    f"the output lacks: {command}")
    finally:
        shutil.rmtree(tmp)
    print(f"{count} documented commands run", file=sys.stderr)
    if count == 0:
        failures.append("no documented commands found")
    for f in failures:
        print(f"FAIL {f}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
