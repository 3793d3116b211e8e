#!/usr/bin/env python3
"""Fails when a file in lib/gradquant/ includes a header from a higher layer.

The layers, lowest first (docs/developing.md): a folder may include its own headers and those
of the folders before it, never one after it.
"""
import pathlib
import re
import sys

LAYERS = ["core", "random", "coding", "io", "stats", "quantizers", "pipeline", "optimize", "bench"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"gradquant/([a-z_]+)/')


def main(root: str) -> int:
    rank = {name: i for i, name in enumerate(LAYERS)}
    problems = []
    for path in sorted(pathlib.Path(root).rglob("*")):
        if path.suffix not in (".hpp", ".cpp"):
            continue
        folder = path.relative_to(root).parts[0]
        if folder not in rank:
            problems.append(f"{path}: folder '{folder}' is not a known layer ({', '.join(LAYERS)})")
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = match.group(1)
            if target not in rank:
                problems.append(f"{path}:{number}: includes unknown layer '{target}'")
            elif rank[target] > rank[folder]:
                problems.append(f"{path}:{number}: {folder}/ includes {target}/, a higher layer")
    for p in problems:
        print(p)
    print(f"layering: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "lib/gradquant"))
