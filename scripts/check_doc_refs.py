#!/usr/bin/env python3
"""Checks that every file reference in the sources and the docs resolves inside the repository.

Run by ctest (label fast) as `check_doc_refs.py SOURCE_DIR`. It fails, listing each problem as
`file:line: problem`, when
- a path such as `docs/cli.md`, `lib/gradquant/io/dump.hpp`, `scripts/plot_bounds.py` or, in a
  C++ comment, a library-relative one such as `random/rng.hpp` names no file or folder;
- a `docs/<name>.md#anchor` (or, inside a Markdown file, a relative link `<name>.md#anchor` or
  `#anchor`) names a heading that the target file does not have (anchors as GitHub makes them);
- a relative Markdown link names a missing file;
- any file mentions the team's private notes (the algorithm and format notes kept outside the
  repository): the manual and the specs live in docs/.
"""
import os
import re
import sys

SCANNED_EXT = (".cpp", ".hpp", ".h", ".py", ".md", ".txt", ".cmake", ".sh", ".tsv")
SCANNED_NAMES = ("Makefile", "CMakeLists.txt", "run")
SKIP_DIRS = {".git", "corpus", "regressions", "__pycache__"}
TOP = ("docs", "lib", "apps", "tests", "bench", "fuzz", "scripts", "data", ".ci")
LIB_PARTS = ("core", "coding", "random", "quantizers", "io", "pipeline", "stats", "optimize",
             "bench")
# Built by concatenation so that this file does not mention them itself.
PRIVATE = ("ALGORITHMS" + ".md", "FORMAT" + ".md")

REPO_PATH = re.compile(r"(?<![\w/.-])((?:%s)/[\w./+-]*[\w/])(#[\w-]+)?" %
                       "|".join(re.escape(t) for t in TOP))
LIB_PATH = re.compile(r"(?<![\w/.-])((?:%s)/\w+\.(?:hpp|cpp))(?![\w/])" % "|".join(LIB_PARTS))
MD_LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def source_files(root):
    for base, dirs, files in os.walk(root):
        rel = os.path.relpath(base, root)
        top = rel.split(os.sep)[0]
        if rel != "." and (top.startswith("build") or (top.startswith(".") and top != ".ci")):
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            if name.endswith(SCANNED_EXT) or name in SCANNED_NAMES:
                yield os.path.normpath(os.path.join(rel, name))


def anchor_of(title):
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", title).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(root, rel, cache={}):
    if rel not in cache:
        found, seen, fenced = set(), {}, False
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            for line in f:
                if FENCE.match(line):
                    fenced = not fenced
                    continue
                m = None if fenced else HEADING.match(line)
                if m:
                    a = anchor_of(m.group(2))
                    n = seen.get(a, 0)
                    seen[a] = n + 1
                    found.add(a if n == 0 else "%s-%d" % (a, n))
        cache[rel] = found
    return cache[rel]


def comment_text(line, ext, in_block):
    """The comment part of a C++ line (and whether a /* block continues), else ''."""
    if ext not in (".cpp", ".hpp", ".h"):
        return line, False
    out, i = "", 0
    while i < len(line):
        if in_block:
            end = line.find("*/", i)
            out += line[i:] if end < 0 else line[i:end]
            if end < 0:
                return out, True
            in_block, i = False, end + 2
            continue
        starts = [p for p in (line.find("//", i), line.find("/*", i)) if p >= 0]
        if not starts:
            break
        p = min(starts)
        if line.startswith("//", p):
            return out + line[p + 2:], False
        in_block, i = True, p + 2
    return out, in_block


def check(root):
    problems = []

    def target_ok(rel_target, anchor, where):
        full = os.path.join(root, rel_target)
        if not os.path.exists(full):
            problems.append("%s: names %s, which is not in the repository" % (where, rel_target))
        elif anchor and rel_target.endswith(".md") and anchor[1:] not in anchors(root, rel_target):
            problems.append("%s: %s has no heading for %s" % (where, rel_target, anchor))

    for rel in sorted(source_files(root)):
        ext = os.path.splitext(rel)[1]
        in_block = False
        fenced = False
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        for number, line in enumerate(lines, 1):
            where = "%s:%d" % (rel, number)
            for name in PRIVATE:
                if name in line:
                    problems.append("%s: mentions %s, which is not part of the repository; cite "
                                    "docs/ instead" % (where, name))
            text, in_block = comment_text(line, ext, in_block)
            if ext == ".md" and FENCE.match(line):
                fenced = not fenced
            for m in REPO_PATH.finditer(text):
                after = text[m.end():m.end() + 1]
                if after in "<*{$" and after:
                    continue  # a pattern such as cmd_<name>.cpp, not a path
                target_ok(os.path.normpath(m.group(1)), m.group(2), where)
            if ext in (".cpp", ".hpp", ".h"):
                for m in LIB_PATH.finditer(text):
                    # Relative to lib/gradquant/, to the file's own top folder (tests/io/...)
                    # or to the repository.
                    bases = (os.path.join("lib", "gradquant"), rel.split(os.sep)[0], "")
                    if not any(os.path.exists(os.path.join(root, b, m.group(1))) for b in bases):
                        target_ok(os.path.join(bases[0], m.group(1)), None, where)
            if ext == ".md" and not fenced:
                for m in MD_LINK.finditer(line):
                    link = m.group(1)
                    if re.match(r"^[a-z]+:", link):
                        continue  # http:, mailto: ...
                    path, _, anchor = link.partition("#")
                    if path:
                        target = os.path.normpath(os.path.join(os.path.dirname(rel), path))
                    else:
                        target = rel
                    target_ok(target, "#" + anchor if anchor else None, where)
    return problems


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(__file__), ".."))
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print("check_doc_refs: %d broken reference(s)" % len(problems))
        return 1
    print("check_doc_refs: every reference resolves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
