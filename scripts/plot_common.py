"""Reading `gradquant analyze` (and `compress`) reports for the plot_*.py scripts.

A report is CSV or JSON, from a file or stdin ("-"):
  CSV:  one section per table, each opened by a "# table=<name> key=value ..." line and a header;
        numbers in full precision, empty fields for "not defined".
  JSON: {"<table>": {"meta": {...}, "rows": [{...}, ...]}, ...}, or a single {"meta", "rows"}.
read_tables() returns {table name: [row dict, ...]} with numbers as float (NaN for empty/null)
and everything else as str. Only the standard library is used here.
"""
import csv
import io
import json
import math
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


def _meta(line):
    meta = {}
    for token in line.lstrip("#").split():
        if "=" in token:
            key, value = token.split("=", 1)
            meta[key] = value
    return meta


def _guess_name(columns):
    if "quantizer" in columns:
        return "quantizers"
    if "corr_mean" in columns:
        return "gradients"
    return "rows"


def _csv_tables(text):
    tables, sections, current = {}, [], None
    for line in text.splitlines():
        if line.startswith("#"):
            current = {"meta": _meta(line), "lines": []}
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
        name = section["meta"].get("table") or _guess_name(reader.fieldnames or [])
        tables.setdefault(name, []).extend(rows)
    return tables


def _json_rows(report):
    out = []
    for row in report.get("rows", []):
        out.append({k: (v if isinstance(v, list) else _value(v)) for k, v in row.items()})
    return out


def _json_tables(text):
    data = json.loads(text)
    if "rows" in data:
        columns = data["rows"][0].keys() if data["rows"] else []
        name = data.get("meta", {}).get("table") or _guess_name(columns)
        return {name: _json_rows(data)}
    return {name: _json_rows(report) for name, report in data.items()}


def read_tables(source):
    """Tables of a report file, or of stdin if source is "-"."""
    if source == "-":
        text = sys.stdin.read()
    else:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    if text.lstrip().startswith("{"):
        return _json_tables(text)
    return _csv_tables(text)


def table(tables, name, source):
    """The rows of table `name`, or exit with a message naming what the input holds."""
    rows = tables.get(name)
    if not rows:
        sys.exit(f"{source}: no '{name}' rows (found: {', '.join(tables) or 'nothing'}); "
                 f"run gradquant analyze with --format csv or json")
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
