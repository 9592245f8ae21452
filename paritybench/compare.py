"""Tables from result files: one run across frameworks, and two runs before/after (a regression gate).

One run: a table per group of identical throughput cases (same n, E, optimizer, dtype, device), one
row per backend-variant, fastest first, the group's floors beside them:
  steps/s = 1 / median seconds per step;  samples/s = n E steps/s;
  x base  = median seconds per step / the baseline's (1.00 = the baseline, 2.00 = twice its time);
  x floor = seconds per step / the same framework's floor pass (extra_info floor_ratio, or computed
            from the floor case of the same backend, n, E, dtype and device in the run).
Agreement cases get a table per (dtype, device): outcome per backend-variant beside the float64
reference's, with the horizon (first step where the weights part) after '@'.

Two runs: per case (matched by fullname) old and new median seconds per step, ratio new/old and a
verdict. A change counts only when it exceeds both the threshold and the noise:
  slower  new/old > 1 + threshold  and  new q1 > old q3   (the interquartile ranges do not overlap)
  faster  old/new > 1 + threshold  and  new q3 < old q1
  same    otherwise.
A slower case or a changed outcome is a regression.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import re
from dataclasses import dataclass, field

from .resultfile import Case, Run, flatten

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


def times(v: float) -> str:
    return f"{v:.2f}x"


def pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def short(name: str) -> str:
    """test_step[torch-eager-cpu-f32-n1000-sgd-E1] -> torch-eager-cpu-f32-n1000-sgd-E1."""
    return name[name.index("[") + 1:-1] if "[" in name and name.endswith("]") else name


# ---------------------------------------------------------------- one run


def labels(run: Run) -> list[str]:
    """Every backend-variant that has a throughput case in ``run``."""
    return sorted({c.label for c in run.of_kind("throughput")})


def check_baseline(run: Run, baseline: str | None) -> None:
    if baseline is not None and baseline not in labels(run):
        raise ValueError(f"baseline: got {baseline!r}; allowed: one of {', '.join(labels(run)) or 'none'}"
                         f" (backend-variant of a throughput case in {run.path})")


def _key(c: Case) -> tuple:
    return tuple(c.get(k) for k in ("n", "E", "optimizer", "dtype", "device"))


def _floor_of(run: Run, c: Case) -> float | None:
    r = c.get("floor_ratio")
    if isinstance(r, (int, float)) and math.isfinite(r) and r > 0:
        return float(r)
    for f in run.of_kind("floor"):
        if all(f.get(k) == c.get(k) for k in ("backend", "n", "E", "dtype", "device")):
            return c.seconds / f.seconds
    return None


def throughput_tables(run: Run, baseline: str | None = None) -> list[Table]:
    """One table per (n, E, optimizer, dtype, device), rows fastest first, floors after them."""
    check_baseline(run, baseline)
    groups: dict[tuple, list[Case]] = {}
    for c in run.of_kind("throughput"):
        groups.setdefault(_key(c), []).append(c)
    tables = []
    for key in sorted(groups, key=lambda k: (str(k[4]), str(k[3]), str(k[2]), k[1] or 0, k[0] or 0)):
        n, E, opt, dtype, device = key
        cases = sorted(groups[key], key=lambda c: c.seconds)
        base = cases[0] if baseline is None else next((c for c in cases if c.label == baseline), None)
        t = Table(f"n={n} E={E} {opt} {dtype} {device}", [
            Column("case", align="<"), Column("steps/s", si), Column("samples/s", si),
            Column("x base", times), Column("x floor", times), Column("compile s", lambda v: f"{v:.2f}"),
            Column("spread", pct)])
        for c in cases:
            sps = 1 / c.seconds
            samples = sps * n * E if isinstance(n, int) and isinstance(E, int) else None
            t.rows.append([c.label, sps, samples, c.seconds / base.seconds if base else None,
                           _floor_of(run, c), c.get("compile_seconds"), c.spread])
        for f in run.of_kind("floor"):
            if (f.get("n"), f.get("E"), f.get("dtype"), f.get("device")) == (n, E, dtype, device):
                t.rows.append([f.label, 1 / f.seconds, n * E / f.seconds if n and E else None,
                               f.seconds / base.seconds if base else None, 1.0, None, f.spread])
        t.notes.append(f"x base: time per step / {base.label}'s" if base else
                       f"x base: {baseline} has no case in this group")
        tables.append(t)
    return tables


def _outcome_text(c: Case) -> str:
    o = c.get("outcome")
    if isinstance(o, list):  # an ensemble: the fraction solved
        fr = sum(1 for v in o if v == "solved") / max(len(o), 1)
        o = f"{100 * fr:.0f}% solved"
    elif isinstance(c.get("fractions"), dict) and o is None:
        o = f"{100 * c.get('fractions').get('solved', 0):.0f}% solved"
    h = c.get("horizon")
    return f"{o}@{h}" if isinstance(h, int) else str(o)


def agreement_tables(run: Run) -> list[Table]:
    """Per (dtype, device): rows (x_max, recipe), the reference's outcome, each variant's, agreement."""
    groups: dict[tuple, list[Case]] = {}
    for c in run.of_kind("agreement"):
        groups.setdefault((c.get("dtype"), c.get("device")), []).append(c)
    tables = []
    for (dtype, device), cases in sorted(groups.items(), key=lambda kv: tuple(map(str, kv[0]))):
        variants = sorted({c.label for c in cases})
        rows: dict[tuple, dict] = {}
        for c in cases:
            rows.setdefault((c.get("x_max"), str(c.get("recipe"))), {})[c.label] = c
        t = Table(f"outcome agreement, {dtype} {device} (outcome@horizon: the step where w parts from "
                  "the float64 reference's)", [Column("x_max", str), Column("recipe", align="<"),
                                     Column("ref f64", align="<")]
                  + [Column(v, align="<") for v in variants] + [Column("agree", align="<")])
        for (x_max, recipe), by in sorted(rows.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
            refs = {str(c.get("reference_outcome")) for c in by.values()}
            explicit = [c.get("agree") for c in by.values() if isinstance(c.get("agree"), bool)]
            same = all(str(c.get("outcome")) == str(c.get("reference_outcome")) for c in by.values())
            chaotic = any(c.get("chaotic") for c in by.values())
            if explicit:  # the suite's own verdict (ensembles for chaotic cases) decides
                verdict = "NO" if not all(explicit) else ("yes (ensembles)" if chaotic else "yes")
            else:  # an older file without it: equal outcomes, or chaotic and undecided
                verdict = "yes" if same else ("chaotic" if chaotic else "NO")
            t.rows.append([x_max, recipe, "/".join(sorted(refs))]
                          + [_outcome_text(by[v]) if v in by else None for v in variants] + [verdict])
        tables.append(t)
    return tables


def run_tables(run: Run, baseline: str | None = None) -> list[Table]:
    tables = throughput_tables(run, baseline) + agreement_tables(run)
    other = [c for c in run.cases.values() if c.kind == "other"]
    if other:
        t = Table("other cases (no suite extra_info)", [Column("case", align="<"),
                                                        Column("median", seconds), Column("spread", pct)])
        t.rows = [[short(c.name), c.seconds, c.spread] for c in other]
        tables.append(t)
    return tables


# ---------------------------------------------------------------- two runs


@dataclass
class Diff:
    header: list[str]  # machine and version differences, printed first
    table: Table
    only_old: list[str]
    only_new: list[str]
    regressions: list[str]


def verdict(old: Case, new: Case, threshold: float) -> str:
    """'slower' | 'faster' | 'same' (see the module docstring)."""
    r = new.seconds / old.seconds
    if r > 1 + threshold and new.q1 > old.q3:
        return "slower"
    if 1 / r > 1 + threshold and new.q3 < old.q1:
        return "faster"
    return "same"


def machine_differences(old: Run, new: Run) -> list[str]:
    a, b = flatten(old.machine_info), flatten(new.machine_info)
    lines = [f"machine_info.{k}: {a.get(k, '(absent)')} -> {b.get(k, '(absent)')}"
             for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    if old.version != new.version:
        lines.append(f"pytest-benchmark: {old.version} -> {new.version}")
    ca, cb = old.commit_info.get("id"), new.commit_info.get("id")
    if ca != cb:
        lines.append(f"commit: {str(ca)[:12]} -> {str(cb)[:12]}")
    return lines


def case_key(fullname: str, across_devices: bool = False) -> str:
    """The matching key: the fullname, with the device token blanked for CPU/GPU comparisons."""
    if not across_devices:
        return fullname
    return re.sub(r"(?<=[-\[])(cpu|gpu|cuda)(?=[-\]])", "DEVICE", fullname)


def _rekey(run: Run, across: bool) -> Run:
    return dataclasses.replace(run, cases={case_key(k, across): c for k, c in run.cases.items()})


def compare_runs(old: Run, new: Run, threshold: float = 0.10, across_devices: bool = False) -> Diff:
    """Old against new, cases matched by fullname (ignoring the device with ``across_devices``);
    ValueError when the two share no case."""
    old, new = _rekey(old, across_devices), _rekey(new, across_devices)
    common = [k for k in new.cases if k in old.cases]
    if not common:
        raise ValueError(f"new: got {new.path!r} (no case in common with {old.path}: "
                         f"{len(old.cases)} and {len(new.cases)} cases, none with the same fullname); "
                         "allowed: two runs of the same benchmark suite"
                         + ("" if across_devices else " (--across-devices matches cpu to gpu cases)"))
    t = Table(f"{old.path} -> {new.path} (seconds per step, or per floor pass; threshold "
              f"{100 * threshold:.0f}% and outside both runs' IQR)",
              [Column("case", align="<"), Column("old", seconds), Column("new", seconds),
               Column("new/old", times), Column("spread o/n"), Column("verdict", align="<")])
    regressions = []
    for k in common:
        o, n = old.cases[k], new.cases[k]
        # agreement runs are one timed call, compilation included: their time is not gated
        v = "not gated" if n.kind == "agreement" else verdict(o, n, threshold)
        notes = [v]
        change = conclusion_change(o, n)
        if change:
            notes.append(change.upper())
            regressions.append(f"{short(n.name)}: {change}")
        if v == "slower":
            regressions.append(f"{short(n.name)}: slower, {n.seconds / o.seconds:.2f}x the time")
        t.rows.append([short(n.name), o.seconds, n.seconds, n.seconds / o.seconds,
                       f"{100 * o.spread:.0f}/{100 * n.spread:.0f}%", "; ".join(notes)])
    only_old = [short(old.cases[k].name) for k in old.cases if k not in new.cases]
    only_new = [short(new.cases[k].name) for k in new.cases if k not in old.cases]
    return Diff(machine_differences(old, new), t, only_old, only_new, regressions)


def conclusion_change(o, n) -> str | None:
    """What a case concluded, old -> new, when it got worse; None otherwise.

    Chaotic agreement cases are judged by the suite's ensemble verdict (``agree``): their single
    run's outcome differs between machines by design. Every other case by its outcome.
    """
    if n.kind == "agreement" and (o.get("chaotic") or n.get("chaotic")):
        oa, na = o.get("agree"), n.get("agree")
        return f"ensemble agreement {oa} -> {na}" if na is False and oa is not False else None
    oo, no = o.get("outcome"), n.get("outcome")
    if (oo is not None or no is not None) and oo != no:
        return f"outcome {_short_outcome(oo)} -> {_short_outcome(no)}"
    return None


def _short_outcome(o) -> str:
    if isinstance(o, list):
        return f"{sum(v == 'solved' for v in o)}/{len(o)} solved"
    return str(o)


def diff_tables(d: Diff) -> list[Table]:
    tables = [d.table]
    for title, names in (("only in the old file", d.only_old), ("only in the new file", d.only_new)):
        if names:
            tables.append(Table(f"{title} ({len(names)})", [Column("case", align="<")],
                                [[n] for n in names]))
    return tables


# ---------------------------------------------------------------- formats


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
