"""Two runs before/after, the gate: per case (matched by fullname) the paired floor ratios old and
new, their ratio, the absolute times for information, and the verdict of ``rules.judge_case``
(rules in rules.py, comparable runs in machines.py, noise profiles in noise.py, statistics in
stats.py, rendering in text/tables.py). A slower case or a changed outcome is a regression.
One run's tables: render/one_run.py.
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from statistics import median

from . import machines as M, noise as N, rules as V
from ..text.tables import Column, Table, short, times
from ..store.resultfile import Case, Run

STEP_KINDS = ("throughput", "tuned", "model-throughput")  # training steps; the tuned tier and the models' (paritybench/analyses/model_results.py) gated like the default
GATED = STEP_KINDS + ("op",)  # judged on their paired floor ratios (ops: one process, rounds only)


@dataclass(frozen=True)
class Row:
    case: str
    verdict: str       # slower | faster | same | too noisy | not gated | no verdict
    effect: float | None
    p: float | None
    resolution: float | None = None  # the change the case detects with 80% power (verdict.Noise)
    threshold: float | None = None   # the change beyond which it gives a verdict
    why: str = ""


@dataclass
class Diff:
    header: list[str]  # the key differences between the machines, then the basis, printed first
    table: Table
    only_old: list[str]
    only_new: list[str]
    regressions: list[str]
    rows: list[Row]
    basis: str         # one line: what the verdicts rest on
    same_machine: bool
    verdicts: bool = True            # False: different hardware, no timing verdict (--across-machines)
    hardware: list[str] = dataclasses.field(default_factory=list)   # differing hardware fields
    software: list[str] = dataclasses.field(default_factory=list)   # changed packages
    controls: dict = dataclasses.field(default_factory=dict)        # case -> its drift control
    resolution: dict = dataclasses.field(default_factory=dict)      # ``resolution_summary``
    profile: str | None = None                                       # the noise profile used


def _p(v: float) -> str:
    return f"{v:.0e}" if v < 0.01 else f"{v:.2f}"


def case_key(fullname: str, across_devices: bool = False) -> str:
    """The matching key: the fullname, with the device token blanked for CPU/GPU comparisons."""
    if not across_devices:
        return fullname
    return re.sub(r"(?<=[-\[])(cpu|gpu|cuda)(?=[-\]])", "DEVICE", fullname)


def _rekey(run: Run, across: bool) -> Run:
    return dataclasses.replace(run, cases={case_key(k, across): c for k, c in run.cases.items()})


def _gate_text(rules: V.Rules) -> str:
    return (f"per case a change beyond its threshold from its own noise (false verdicts <= {rules.alpha:g} "
            f"per case, at least {100 * rules.min_effect:g}%, docs/compare.md)")


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%" if v >= 0.095 else f"{100 * v:.1f}%"


def resolution_summary(rows: list[Row], names: dict | None = None) -> dict:
    """The run's resolution over its judged cases: median, 90th percentile, the worst case, and
    every case wider than ``rules.MAX_RESOLUTION`` with why; ``line``: one line of it."""
    judged = sorted((r for r in rows if r.resolution is not None), key=lambda r: r.resolution)
    unmeasured = [{"case": r.case, "why": r.why} for r in rows
                  if r.verdict == "too noisy" and r.resolution is None]  # rules.UNMEASURED
    tail = (f"; {len(unmeasured)} cases' resolution unmeasured (one process a side, no noise-profile entry)"
            if unmeasured else "")
    if not judged:
        return {"cases": 0, "line": "resolution: no case judged" + tail, "unmeasured": unmeasured}
    res = [r.resolution for r in judged]
    p90 = res[min(len(res) - 1, math.ceil(0.9 * len(res)) - 1)]
    worst = judged[-1]
    wide = [{"case": r.case, "resolution": r.resolution, "why": r.why} for r in judged
            if r.resolution > V.MAX_RESOLUTION]
    line = (f"resolution: median {_pct(median(res))}, 90% of cases <= {_pct(p90)}, worst "
            f"{_pct(worst.resolution)} ({worst.case}); {len(wide)} of {len(res)} cases wider than "
            f"{_pct(V.MAX_RESOLUTION)}" + tail)
    return {"cases": len(res), "median": median(res), "p90": p90, "worst": worst.resolution,
            "worst_case": worst.case, "wider_than_max": wide, "unmeasured": unmeasured, "line": line,
            "per_case": {r.case: {"resolution": r.resolution, "threshold": r.threshold} for r in judged}}


def _basis_line(rules: V.Rules, hardware: list[str], software: dict, across_machines: bool,
                across_devices: bool) -> str:
    gate = _gate_text(rules)
    if hardware and not across_machines:
        return (f"hardware differs ({len(hardware)} fields): NO timing verdict is given; neither times nor "
                "step/floor ratios travel between CPUs (docs/compare.md, 'Across hardware'); the "
                "ratios below are information. --across-machines: floor-normalised verdicts, with "
                "their measured false rate")
    if hardware or across_devices:
        return (f"--across-machines: verdicts from floor-normalised paired ratios only, never absolute "
                f"times; {gate}")
    if software:
        changed = ", ".join(sorted(software))
        return (f"same hardware, software differs ({changed}): cases of the frameworks it can move are "
                f"judged on absolute times over a drift control whose software did not change "
                f"(absolute/control), the others on paired floor ratios; {gate}")
    if rules.absolute:
        return f"same machine: verdicts from paired floor ratios and absolute times, {gate}"
    return f"same machine: verdicts from paired floor ratios (--absolute gates times too), {gate}"


def drift_control(run: Run, c: Case, affected: set[str]) -> Case | None:
    """The step case whose paired floor rounds serve as ``c``'s drift control: a backend the changed
    software cannot move (numpy's first), same device, dtype and E, the nearest n. None if none."""
    pool = [k for k in run.of_kind("throughput") if k.get("backend") not in affected
            and all(k.get(f) == c.get(f) for f in ("device", "dtype", "E")) and V.floor_rounds(k)]
    if not pool or not isinstance(c.get("n"), int):
        return None
    return min(pool, key=lambda k: (k.get("backend") != "reference",
                                    abs(math.log(max(k.get("n") or 1, 1) / c.get("n"))),
                                    k.get("optimizer") != "sgd", k.name))


def judge_changed(o: Case, n: Case, old: Run, new: Run, rules: V.Rules, affected: set[str],
                  across_devices: bool = False, same_run: bool = False) -> tuple[V.Verdict, str | None]:
    """(verdict, control label) of a case whose framework changed: absolute times over the drift
    control (``drift_control`` in ``new``, the same case in ``old``; without one, plain absolute)."""
    cn = drift_control(new, n, affected)
    co = old.cases.get(case_key(cn.fullname, across_devices)) if cn else None
    return V.judge_controlled(o, n, co, cn if co else None, rules, same_run), (cn.label if co else None)


def _judge(o: Case, n: Case, old: Run, new: Run, rules: V.Rules, ctx: dict) -> tuple[V.Verdict, str | None]:
    """(verdict, control case name) of one common case under the comparison's context."""
    gated = n.kind in GATED or n.kind == "floor"
    if not gated:  # agreement runs are one call with compilation; methods, tools: information
        return V.Verdict("not gated", "-", None, None), None
    if ctx["hardware"] and not ctx["across_machines"]:
        info = V.judge(o, n, rules, "paired") if n.kind in GATED else V.Verdict("not gated", "-", None, None)
        return V.Verdict("no verdict", "-", info.effect, info.p, "hardware differs", info.p_process), None
    if n.get("backend") in ctx["affected"]:
        return judge_changed(o, n, old, new, rules, ctx["affected"], ctx["across_devices"], ctx["same_run"])
    prior = (ctx["profile"] or {}).get("cases", {}).get(n.fullname)
    if n.kind in GATED:
        return V.judge_case(o, n, rules, ctx["same"], prior, ctx["same_run"], ctx["first_apart"]), None
    if rules.absolute and ctx["same"]:
        return V.judge(o, n, rules, "absolute", None, ctx["same_run"], ctx["first_apart"]), None
    return V.Verdict("not gated", "-", None, None), None  # floors are inside every paired ratio


def compare_runs(old: Run, new: Run, rules: V.Rules = V.Rules(), across_devices: bool = False,
                 across_machines: bool = False, profile="auto", same_run: bool | None = None,
                 first_apart: bool | None = None) -> Diff:
    """Old against new, cases matched by fullname (ignoring the device with ``across_devices``);
    ValueError when the two share no case. Different hardware (``M.HARDWARE_FIELDS``, or devices):
    no timing verdict unless ``across_machines``. Same hardware, other software: the changed
    frameworks' cases on absolute times over a drift control (``drift_control``).
    ``profile``: a noise profile (dict), None, or "auto" (the newest committed one of this machine
    kind, ``noise.find_profile``). ``same_run``: both sides timed interleaved in one run (no
    run-to-run term); None: so when both files come from one ``paritybench ab``. ``first_apart``:
    each side's first process is the pytest process, the others replicas, and its offset is a block
    of its own (``rules.noise``); None: not (the study found no gain: docs/compare.md)."""
    keys = M.key_differences(old, new)
    hardware = M.hardware_differences(old, new) + (["device: matched across devices"] if across_devices else [])
    software = {} if hardware else M.changed_software(old, new)
    if profile == "auto":
        profile = None if hardware else N.find_profile(new)
    if same_run is None:
        same_run = N.same_ab_run(old, new)
    if first_apart is None:  # measured, not taken: docs/compare.md, "The resolution, measured"
        first_apart = False
    ctx = {"hardware": hardware, "across_machines": across_machines, "across_devices": across_devices,
           "affected": M.affected_backends(software), "same": not keys and not across_devices,
           "profile": profile, "same_run": same_run, "first_apart": first_apart}
    verdicts = not hardware or across_machines
    old, new = _rekey(old, across_devices), _rekey(new, across_devices)
    common = [k for k in new.cases if k in old.cases]
    if not common:
        raise ValueError(f"new: got {new.path!r} (no case in common with {old.path}: "
                         f"{len(old.cases)} and {len(new.cases)} cases, none with the same fullname); "
                         "allowed: two runs of the same benchmark suite"
                         + ("" if across_devices else " (--across-devices matches cpu to gpu cases)"))
    basis = _basis_line(rules, hardware, software, across_machines, across_devices)
    t = Table(f"{old.path} -> {new.path}", [
        Column("case", align="<"), Column("fl old", times), Column("fl new", times),
        Column("change", times), Column("res", _pct), Column("p", _p), Column("p proc", _p),
        Column("time", times), Column("verdict", align="<")])
    t.notes = ["fl: step/floor, median of the processes' median paired ratios; change: new/old on the "
               "verdict's basis (the processes' geometric means; paired ratios where no verdict is given); "
               "res: the case's resolution, the change it detects with 80% power (a verdict needs a change "
               "beyond its threshold, below res); p: the change against its noise, p proc: the exact test "
               f"of the process medians ('-': fewer than {V.MIN_PROCESSES} processes on a side); time: new/old "
               "seconds per step" + ("" if ctx["same"] and rules.absolute else ", gated only where the verdict says 'absolute'")
               + "; MEM / mem: more / less peak memory, new/old (GPU peak, else the RSS the case added), "
               "gated like time, changes under 8 MiB ignored"]
    regressions, rows, rounds_only, controls = [], [], [], {}
    for k in common:
        o, n = old.cases[k], new.cases[k]
        v, control = _judge(o, n, old, new, rules, ctx)
        if control:
            controls[short(n.name)] = control
        notes = [v.label + (f" ({v.basis})" if v.basis.startswith("absolute") else "")]
        mv = V.judge_memory(o, n, rules) if n.kind in STEP_KINDS and verdicts else None
        if mv is not None and mv.label in ("more memory", "less memory"):
            notes.append(f"{'MEM' if mv.label == 'more memory' else 'mem'} {mv.effect:.2f}x")
            if mv.label == "more memory":
                regressions.append(f"{short(n.name)}: more memory, {mv.effect:.2f}x")
        if v.noise and v.noise.source.startswith("rounds only"):
            rounds_only.append(v.noise.source.split(", run-to-run")[0].split(", one interleaved")[0])
        change = V.conclusion_change(o, n)  # outcomes must hold on any machine: judged everywhere
        if change:
            notes.append(change.upper())
            regressions.append(f"{short(n.name)}: {change}")
        if v.label == "slower":
            regressions.append(f"{short(n.name)}: slower, {v.effect:.2f}x ({v.basis}, threshold "
                               f"{_pct(v.threshold)}, resolution {_pct(v.resolution)}, p={v.p:.1e}"
                               + (")" if v.p_process is not None else ", rounds only)"))
        res = v.resolution if v.label not in ("no verdict", "not gated") and math.isfinite(v.resolution) else None
        rows.append(Row(short(n.name), v.label, v.effect, v.p, res, v.threshold if res is not None else None,
                        v.noise.why() if v.noise else v.why))
        fo, fn = o.get("floor_ratio"), n.get("floor_ratio")
        t.rows.append([short(n.name), fo if isinstance(fo, (int, float)) else None,
                       fn if isinstance(fn, (int, float)) else None, v.effect, res, v.p, v.p_process,
                       n.seconds / o.seconds, "; ".join(notes)])
    only_old = [short(old.cases[k].name) for k in old.cases if k not in new.cases]
    only_new = [short(new.cases[k].name) for k in new.cases if k not in old.cases]
    header = ([f"key differences between the machines ({len(keys)}):"] + [f"  {line}" for line in keys]
              if keys else ["same machine: CPU, ISA, capability, threads and versions match"])
    if old.version != new.version:
        header.append(f"pytest-benchmark: {old.version} -> {new.version}")
    ca, cb = old.commit_info.get("id"), new.commit_info.get("id")
    if ca != cb:
        header.append(f"commit: {str(ca)[:12]} -> {str(cb)[:12]}")
    header.append(basis)
    if controls:
        used = sorted(set(controls.values()))
        header.append(f"drift control (software unchanged, floor rounds timed in the same processes): "
                      f"{', '.join(used)}")
    header += [r.partial for r in (old, new) if r.partial]
    if rounds_only:
        unmeasured = sum(x.endswith(V.UNMEASURED) for x in rounds_only)
        header.append(f"{len(rounds_only)} cases judged on their rounds only (between-process noise "
                      f"unmeasured, threshold >= {_pct(V.ROUNDS_ONLY_MIN_EFFECT)}): "
                      + rounds_only[0].removeprefix("rounds only, ").removesuffix(V.UNMEASURED)
                      + (f"; {unmeasured} of them without a noise-profile entry: too noisy, no verdict "
                         "(their run-to-run spread is unmeasured)" if unmeasured else ""))
    if verdicts:
        header.append(noise_line(profile, same_run))
    summary = resolution_summary(rows) if verdicts else {}
    return Diff(header, t, only_old, only_new, regressions, rows, basis, ctx["same"], verdicts,
                hardware, sorted(software), controls, summary, (profile or {}).get("path"))


def noise_line(profile: dict | None, same_run: bool) -> str:
    """One header line: what the run-to-run part of each case's noise rests on."""
    if same_run:
        return "noise: both sides ran interleaved in one run: the processes' own spread, no run-to-run term"
    if profile:
        return (f"noise: the processes' own spread, and the run-to-run spread of each case measured in "
                f"{profile.get('path')} ({len(profile.get('runs', []))} runs of this machine kind)")
    return (f"noise: the processes' own spread and an assumed run-to-run sd of {100 * V.DEFAULT_RUN_SD:.0f}% "
            "(no noise profile of this machine kind: results/noise-profile-*.json, docs/compare.md)")


def diff_tables(d: Diff) -> list[Table]:
    tables = [d.table]
    for title, names in (("only in the old file", d.only_old), ("only in the new file", d.only_new)):
        if names:
            tables.append(Table(f"{title} ({len(names)})", [Column("case", align="<")],
                                [[n] for n in names]))
    return tables
