"""Rendering of the suite's tables: terminal text (<= 100 columns), markdown, csv and json.

A ``Table`` holds raw values (csv and json print them as they are); each ``Column``'s fmt turns a
value into text for the terminal and markdown. No statistics and no verdicts here.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field

FORMATS = ("terminal", "markdown", "csv", "json")
WIDTH = 100


@dataclass
class Column:
    name: str
    fmt: callable = str
    align: str = ">"


@dataclass
class Table:
    """A titled table: raw values in rows (for csv/json), each column's fmt for text formats."""

    title: str
    columns: list
    rows: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def text_rows(self) -> list[list[str]]:
        return [[_cell(c.fmt, v) for c, v in zip(self.columns, r)] for r in self.rows]


def _cell(fmt, v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt(v)


def si(v: float) -> str:
    """3 significant digits with k/M/G: 12345 -> '12.3k'."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= scale:
            return f"{v / scale:.3g}{unit}"
    return f"{v:.3g}"


def seconds(v: float) -> str:
    """A duration with its unit: 1.23 ms, 45.6 us."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if abs(v) >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v / 1e-9:.3g} ns"


def us(s: float) -> str:
    """Seconds as microseconds, 3-4 significant digits: 0.000233 -> '233 us', 4.4e-05 -> '44.0 us'."""
    v = s * 1e6
    return f"{v:.0f} us" if v >= 100 else f"{v:.1f} us"


def power10(n: int) -> str:
    """1000 -> '1e3'; 1000000 -> '1e6'; other numbers as they are."""
    e = len(str(n)) - 1
    return f"1e{e}" if n == 10**e else str(n)


def times(v: float) -> str:
    return f"{v:.2f}x"


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def short(name: str) -> str:
    """test_step[torch-eager-cpu-f32-n1000-sgd-E1] -> torch-eager-cpu-f32-n1000-sgd-E1."""
    return name[name.index("[") + 1:-1] if "[" in name and name.endswith("]") else name


def render(tables: list[Table], fmt: str, header: list[str] = (), footer: list[str] = ()) -> str:
    """The tables as terminal text (<= 100 columns), markdown, csv or json."""
    if fmt == "json":
        return json.dumps({"header": list(header), "tables": [
            {"title": t.title, "columns": [c.name for c in t.columns],
             "rows": [dict(zip([c.name for c in t.columns], map(_jsonable, r))) for r in t.rows],
             "notes": t.notes} for t in tables], "footer": list(footer)}, indent=1)
    if fmt == "csv":  # one header: the table's title, then the union of every table's columns
        names = []
        for t in tables:
            names += [c.name for c in t.columns if c.name not in names]
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["table"] + names)
        for t in tables:
            for r in t.rows:
                by = dict(zip([c.name for c in t.columns], r))
                w.writerow([t.title] + ["" if by.get(k) is None else _jsonable(by[k]) for k in names])
        return buf.getvalue().rstrip("\n")
    out = []
    for line in header:
        out.append(f"> {line}" if fmt == "markdown" else line)
    if header:
        out.append("")
    for t in tables:
        cells = t.text_rows()
        if fmt == "markdown":
            out.append(f"**{t.title}**\n")
            out.append("| " + " | ".join(c.name for c in t.columns) + " |")
            out.append("|" + "|".join("---:" if c.align == ">" else ":---" for c in t.columns) + "|")
            out.extend("| " + " | ".join(r) + " |" for r in cells)
        else:
            out.extend(_wrap(t.title))
            out.extend(_aligned(t, cells))
        out.extend(f"  {n}" if fmt == "terminal" else f"\n_{n}_" for n in t.notes)
        out.append("")
    out.extend(footer)
    return "\n".join(out).rstrip("\n")


def _jsonable(v):
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _wrap(text: str) -> list[str]:
    lines, cur = [], ""
    for word in text.split(" "):
        if cur and len(cur) + 1 + len(word) > WIDTH:
            lines.append(cur)
            cur = "  " + word
        else:
            cur = f"{cur} {word}" if cur else word
    return lines + [cur]


def _aligned(t: Table, cells: list[list[str]]) -> list[str]:
    widths = [max([len(c.name)] + [len(r[i]) for r in cells]) for i, c in enumerate(t.columns)]
    over = sum(widths) + 2 * (len(widths) - 1) - WIDTH
    if over > 0:  # shorten the first (name) column, the only free-text one
        widths[0] = max(12, widths[0] - over)
    def line(vals):
        parts = []
        for c, w, v in zip(t.columns, widths, vals):
            v = v if len(v) <= w else v[:w - 1] + "~"
            parts.append(v.ljust(w) if c.align == "<" else v.rjust(w))
        return "  ".join(parts).rstrip()
    return [line([c.name for c in t.columns]), line(["-" * w for w in widths])] + [line(r) for r in cells]
