"""Reading gradquant reports (`analyze`, `optimize`, `compress`, ...) for the plot_*.py scripts.

A report is CSV or JSON, from a file or stdin ("-"):
  CSV:  one section per table, each opened by a "# key=value ..." meta line and a header;
        numbers in full precision, empty fields for "not defined". A meta value with a space,
        quote, backslash or control character is double-quoted with \\" \\\\ \\n \\r \\t
        (\\xHH) escapes (apps/report.hpp).
  JSON: {"<table>": {"meta": {...}, "rows": [{...}, ...]}, ...}, or a single {"meta", "rows"}.
A table is named by its meta "table" (analyze: quantizers, gradients) or "part" (optimize:
thresholds, frontier, curve), else guessed from its columns; two sections are never merged
unless they have the same name. read_tables() returns {table name: [row dict, ...]} with numbers
as float (NaN for empty/null) and everything else as str; read_report() also returns each
table's meta. Only the standard library is used here.
"""
import csv
import io
import json
import math
import os
import sys


def _value(text):
    if text is None or text == "":
        return math.nan
    if isinstance(text, (int, float)):
        return float(text)
    if not isinstance(text, str):
        return text
    try:
        return float(text)
    except ValueError:
        return text


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _meta_words(text):
    """The space-separated words of a meta line, each unquoted (apps/report.hpp's syntax)."""
    words, word, i, quoted, started = [], [], 0, False, False
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "x" and i + 3 < len(text):
                word.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            word.append(_ESCAPES.get(nxt, nxt))
            i += 2
            continue
        if ch == '"':
            quoted, started = not quoted, True
        elif ch == " " and not quoted:
            if started:
                words.append("".join(word))
            word, started = [], False
        else:
            word.append(ch)
            started = True
        i += 1
    if started:
        words.append("".join(word))
    return words


def parse_meta_line(line):
    """{key: value} of a CSV report's "# key=value ..." line (values as text)."""
    meta = {}
    body = line[1:] if line.startswith("#") else line
    # Split at unquoted spaces, then at the first unquoted '=' of each word: quote marks are
    # kept while splitting so that a quoted key or value may hold '=' or spaces.
    for word in _split_unquoted(body.strip(), " "):
        parts = _split_unquoted(word, "=", 1)
        if len(parts) == 2:
            key, value = (_meta_words(p) for p in parts)
            meta[key[0] if key else ""] = value[0] if value else ""
    return meta


def _split_unquoted(text, sep, maxsplit=-1):
    parts, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if quoted and ch == "\\":
            current.append(ch)
            escaped = True
            continue
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted and (maxsplit < 0 or len(parts) < maxsplit):
            if current or sep != " ":
                parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    if current or (parts and sep != " "):
        parts.append("".join(current))
    return parts


def _guess_name(columns):
    if "quantizer" in columns:
        return "quantizers"
    if "corr_mean" in columns:
        return "gradients"
    if "point" in columns:
        return "curve"
    if "alpha_closed" in columns:
        return "thresholds"
    if "family" in columns and "budget" in columns:
        return "frontier"
    return "rows"


def _name(meta, columns):
    return str(meta.get("table") or meta.get("part") or _guess_name(columns))


def _csv_tables(text):
    tables, metas, sections, current = {}, {}, [], None
    for line in text.splitlines():
        if line.startswith("#"):
            current = {"meta": parse_meta_line(line), "lines": []}
            sections.append(current)
        elif line.strip():
            if current is None:
                current = {"meta": {}, "lines": []}
                sections.append(current)
            current["lines"].append(line)
    for section in sections:
        if not section["lines"]:
            continue
        reader = csv.DictReader(io.StringIO("\n".join(section["lines"])))
        rows = [{k: _value(v) for k, v in row.items()} for row in reader]
        if None in (reader.fieldnames or []) or any(None in row for row in rows):
            raise ValueError("a CSV row is longer than its header")
        name = _name(section["meta"], reader.fieldnames or [])
        tables.setdefault(name, []).extend(rows)
        metas.setdefault(name, section["meta"])
    return tables, metas


def _json_rows(report):
    out = []
    for row in report.get("rows", []):
        out.append({k: (v if isinstance(v, list) else _value(v)) for k, v in row.items()})
    return out


def _json_tables(text):
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("JSON report is not an object")
    if "rows" in data:
        columns = data["rows"][0].keys() if data["rows"] else []
        meta = data.get("meta", {})
        name = _name(meta, columns)
        return {name: _json_rows(data)}, {name: meta}
    tables, metas = {}, {}
    for key, report in data.items():
        if isinstance(report, dict):
            tables[key] = _json_rows(report)
            metas[key] = report.get("meta", {})
    return tables, metas


def read_report(source):
    """({table name: rows}, {table name: meta}) of a report file, or of stdin if source is "-".

    Exits with a one-line message when the file cannot be read or is not a report."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        sys.exit(f"{_prog()}: {source}: cannot read ({getattr(e, 'strerror', None) or e})")
    if not text.strip():
        sys.exit(f"{_prog()}: {source}: empty input (did the gradquant command fail?)")
    try:
        if text.lstrip().startswith("{"):
            return _json_tables(text)
        return _csv_tables(text)
    except (ValueError, csv.Error) as e:
        sys.exit(f"{_prog()}: {source}: not a gradquant CSV or JSON report ({e})")


def read_tables(source):
    """{table name: rows} of a report file, or of stdin if source is "-" (see read_report)."""
    return read_report(source)[0]


def _prog():
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "plot"


def table(tables, name, source, hint="run gradquant analyze with --format csv or json"):
    """The rows of table `name`, or exit with a message naming what the input holds."""
    rows = tables.get(name)
    if not rows:
        sys.exit(f"{_prog()}: {source}: no '{name}' rows (found: "
                 f"{', '.join(tables) or 'nothing'}); {hint}")
    return rows


def finite(x):
    return isinstance(x, float) and math.isfinite(x)


def matrix(value):
    """A correlation matrix from a JSON array or the CSV field holding one."""
    if isinstance(value, list):
        rows = value
    elif isinstance(value, str) and value.startswith("["):
        rows = json.loads(value)
    else:
        return None
    return [[math.nan if v is None else float(v) for v in row] for row in rows]


def agg():
    """matplotlib.pyplot with the Agg backend (no display needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt
