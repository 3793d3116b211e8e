#!/usr/bin/python3
"""Regenerate the generated parts of README.md and docs/*.md from the current build.

Two markers, both HTML comments (invisible when the markdown is rendered):

  <!-- gen: COMMAND -->
  ```text
  ...COMMAND's stdout, replaced by this tool...
  ```
  <!-- /gen -->

      The fenced block between the markers is replaced by the stdout of COMMAND (the fence
      line and its info string are kept).

  <!-- gen-image: COMMAND -->

      A line of its own, no end marker: COMMAND writes a picture (e.g. a plot script with
      -o docs/bounds.png); the tool runs it and checks that every `-o FILE` it names exists and is
      not empty.

Every COMMAND runs from the repository root through `bash -o pipefail -c`, so a failing
gradquant in a pipe fails the run. Nothing is written unless every command of a file succeeds.

  /usr/bin/python3 scripts/regenerate_docs.py            # rewrite the files (make docs)
  /usr/bin/python3 scripts/regenerate_docs.py --check    # exit 1 if a text block is stale
                                                         # (runs no gen-image command)
  /usr/bin/python3 scripts/regenerate_docs.py docs/cli.md ... # only these files
  ... --binary PATH                                      # another build's gradquant

Build the binary first (`make docs` does: cmake --build build --target gradquant).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = re.compile(r"^<!-- gen: (.*) -->\s*$")
GEN_END = re.compile(r"^<!-- /gen -->\s*$")
GEN_IMAGE = re.compile(r"^<!-- gen-image: (.*) -->\s*$")
FENCE = re.compile(r"^(```+|~~~+)")
OUTPUT = re.compile(r"(?:^|\s)-o\s+(\S+)")


class GenError(Exception):
    pass


BINARY = "build/apps/gradquant"  # as the markers name it; --binary replaces it


def run(command, where):
    command = command.replace("build/apps/gradquant", BINARY)
    result = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-3:]
        raise GenError(f"{where}: exit {result.returncode}: {command}\n  " + "\n  ".join(tail))
    return result.stdout


def regenerate(text, path, images=True):
    """The file's text with every gen block refreshed, and the number of markers run; with
    images=False the gen-image commands are not run (a check must not rewrite pictures)."""
    lines = text.split("\n")
    out, i, count = [], 0, 0
    while i < len(lines):
        line = lines[i]
        where = f"{os.path.relpath(path, ROOT)}:{i + 1}"
        image = GEN_IMAGE.match(line)
        gen = GEN.match(line)
        if image and images:
            run(image.group(1), where)
            for target in OUTPUT.findall(image.group(1)):
                full = os.path.join(ROOT, target)
                if not os.path.isfile(full) or os.path.getsize(full) == 0:
                    raise GenError(f"{where}: {target} was not written by: {image.group(1)}")
            out.append(line)
            i += 1
            count += 1
            continue
        if image or not gen:
            out.append(line)
            i += 1
            continue
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not fence:
            raise GenError(f"{where}: a gen marker must be followed by a fenced block")
        close = next((j for j in range(i + 2, len(lines))
                      if lines[j].startswith(fence.group(1)) and not lines[j].strip("`~ ")), None)
        if close is None or close + 1 >= len(lines) or not GEN_END.match(lines[close + 1]):
            raise GenError(f"{where}: the fenced block must be closed and followed by <!-- /gen -->")
        stdout = run(gen.group(1), where).rstrip("\n")
        out += [line, lines[i + 1]] + (stdout.split("\n") if stdout else []) + \
               [lines[close], lines[close + 1]]
        i = close + 2
        count += 1
    return "\n".join(out), count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="markdown files (default: README.md docs/*.md)")
    ap.add_argument("--check", action="store_true",
                    help="write nothing and draw nothing; exit 1 if a generated text block "
                         "is out of date")
    ap.add_argument("--binary", help="run this gradquant instead of build/apps/gradquant")
    args = ap.parse_args()
    if args.binary:
        global BINARY
        BINARY = os.path.abspath(args.binary)
    files = args.files or [os.path.join(ROOT, "README.md")] + sorted(
        glob.glob(os.path.join(ROOT, "docs", "*.md")))
    stale = []
    try:
        for path in files:
            with open(path, encoding="utf-8") as f:
                old = f.read()
            new, count = regenerate(old, path, images=not args.check)
            name = os.path.relpath(path, ROOT)
            if new == old:
                print(f"{name}: {count} marker(s), up to date", file=sys.stderr)
                continue
            stale.append(name)
            if args.check:
                print(f"{name}: generated text is out of date", file=sys.stderr)
                continue
            tmp = f"{path}.tmp.{os.getpid()}"
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(new)
            os.replace(tmp, path)
            print(f"{name}: {count} marker(s), rewritten", file=sys.stderr)
    except (GenError, OSError) as e:
        sys.exit(f"regenerate_docs.py: {e}")
    if args.check and stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
