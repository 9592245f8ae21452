"""docs/compare.md's generated blocks on verdicts across machines and versions (``paritybench report``;
the gate's noise and resolution are report/gate_noise.py's):
  hw-study       the newest results/hw-study-*/study.json (bench/studies/hw_study.py): false verdicts
                 between a native and an emulated CPU path, with and without --across-machines;
  ab-runs        every committed results/ab-*/ (``paritybench ab``): each side's versions and path,
                 and compare's verdicts of B against A per step and floor case;
  jax-sin-probe  every committed results/jax-sin-probe-*.json (bench/studies/probe_jax_sin.py).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

from ..store import resultfile
from ..text.tables import short
from ..store.resultfile import Run

ROOT = Path(__file__).resolve().parents[2]


def _dirs(pattern: str) -> list[Path]:
    return sorted(d for d in (ROOT / "results").glob(pattern) if d.is_dir())


def block_hw_study(run: Run) -> str:
    dirs = [d for d in _dirs("hw-study-*") if (d / "study.json").is_file()]
    if not dirs:
        return "no committed results/hw-study-*/ (python -m bench.studies.hw_study)\n"
    d = dirs[-1]
    s = json.loads((d / "study.json").read_text())
    first = resultfile.load(d / f"{s['across_machines'][0]['old']}", "run")
    numeric = first.machine_info.get("numeric") or {}
    env = " ".join(f"{k}={v!r}" if " " in v else f"{k}={v}" for k, v in s["env"].items())
    out = [f"`results/{d.name}`: {numeric.get('cpu_model')}, native path: torch "
           f"{(numeric.get('torch') or {}).get('cpu_capability')}, numpy {', '.join((numeric.get('numpy_simd') or {}).get('found') or [])}; "
           f"emulated: `{env}`; {first.doc_extra.get('processes')} processes per case, the same commit in "
           f"every run ({first.datetime[:16]} UTC). Every 'slower' or 'faster' here is false.", "",
           "| pair | gate | cases judged | slower | faster | exit |", "|---|---|---|---|---|---|"]
    for g in s["across_machines"] + s["default"] + [s["control_native_aa"]]:
        mode = "--across-machines" if g["across_machines"] else (
            "default (no verdict: hardware differs)" if not g["verdicts_given"] else "default (same path: A/A)")
        judged = g["judged"] - g.get("no_verdict", 0)
        out.append(f"| {g['old']} -> {g['new']} | {mode} | {judged} | {len(g['slower'])} | "
                   f"{len(g['faster'])} | {g['exit']} |")
    emu = resultfile.load(d / s["across_machines"][0]["new"], "run")
    moves = sorted(((short(c.name), c.get("floor_ratio"), emu.cases[k].get("floor_ratio"))
                    for k, c in first.cases.items() if k in emu.cases and c.kind == "throughput"
                    and c.get("floor_ratio") and emu.cases[k].get("floor_ratio")),
                   key=lambda t: -abs(math.log(t[2] / t[1])))
    if moves:
        out += ["", "The step/floor ratios that moved most between the two paths (same code, same machine):", "",
                "| case | native | emulated | emulated / native |", "|---|---|---|---|"]
        out += [f"| {c} | {a:.2f}x | {b:.2f}x | {b / a:.2f} |" for c, a, b in moves[:8]]
    wrong = sorted({c for g in s["across_machines"] for c in g["slower"] + g["faster"]})
    if wrong:
        out += ["", "Falsely judged with --across-machines: " + ", ".join(f"`{c}`" for c in wrong) + "."]
    other = sorted({r for g in s["across_machines"] for r in g["regressions"] if ": slower," not in r})
    if other:
        out += ["", "Other false regressions with --across-machines: " + "; ".join(other) + "."]
    return "\n".join(out) + "\n"


def _side(r: Run) -> str:
    m, numeric = r.machine_info, r.machine_info.get("numeric") or {}
    isa = (numeric.get("jax") or {}).get("xla_cpu_max_isa")
    return (f"torch {m.get('torch')}, jax {m.get('jax')}/{m.get('jaxlib')}, numpy {m.get('numpy')}"
            + (f", XLA ISA {isa}" if isa and isa != "host" else ""))


def block_ab_runs(run: Run) -> str:
    from ..gate import compare
    dirs = [d for d in _dirs("ab-*") if (d / "a.json").is_file() and (d / "b.json").is_file()]
    if not dirs:
        return "no committed results/ab-*/ (paritybench ab)\n"
    out = []
    for d in dirs:
        a, b = resultfile.load(d / "a.json", "A"), resultfile.load(d / "b.json", "B")
        info = b.doc_extra.get("ab") or {}
        diff = compare.compare_runs(a, b)
        given = [r for r in diff.rows if r.verdict in ("slower", "faster")]
        numeric = a.machine_info.get("numeric") or {}
        out += [f"**`results/{d.name}`** ({a.datetime[:16]} UTC, {numeric.get('cpu_model')}): "
                f"profile {info.get('profile')}, {info.get('processes')} processes per side, alternating A, B; "
                f"selection `{info.get('selection')}`"
                + (f"; **planted slower on side B** (`--plant-b`, a test of the gate): "
                   f"{len([x for x in info['planted'].split(',') if x])} cases" if info.get("planted") else "")
                + ".", "",
                f"- A: {_side(a)}", f"- B: {_side(b)}",
                f"- basis: {diff.basis.split(';')[0]}"
                + (f"; drift control: {', '.join(sorted(set(diff.controls.values())))}" if diff.controls else ""),
                f"- {len(diff.rows)} cases, **{len(given)} verdicts** (slower or faster), "
                f"{len(diff.regressions)} regressions"
                + ("" if not diff.regressions else ": " + "; ".join(diff.regressions)), ""]
        out += [f"- {diff.resolution.get('line', 'resolution: -')}", "",
                "| case | time B/A | step/floor A | step/floor B | resolution | verdict |", "|---|---|---|---|---|---|"]
        common = [k for k in b.cases if k in a.cases]  # compare_runs' rows, in its order
        for k, row in zip(common, diff.table.rows):
            if b.cases[k].kind not in ("throughput", "tuned", "floor"):
                continue
            fa, fb, res = row[1], row[2], row[4]
            out.append(f"| {row[0]} | {row[7]:.2f}x | {'-' if fa is None else f'{fa:.2f}x'} | "
                       f"{'-' if fb is None else f'{fb:.2f}x'} | {'-' if res is None else f'{100 * res:.1f}%'} | {row[8]} |")
        if diff.same_machine:
            as_if = _as_if_changed(a, b)
            out += ["", f"The same A/A judged as if torch and jax had both changed (their steps and floors on "
                    f"absolute times over numpy's floor rounds, the basis of an upgrade): {len(as_if)} cases, "
                    f"**{sum(v.label in ('slower', 'faster') for v in as_if)} verdicts**, largest change "
                    f"{max(abs(v.effect - 1) for v in as_if if v.effect) * 100:.1f}%."]
        agree = [c for c in b.cases.values() if c.kind == "agreement"]
        if agree:
            changed = [r for r in diff.regressions if "outcome" in r or "agreement" in r]
            out += ["", f"Agreement cases: {len(agree)}, "
                    + ("every outcome the same on both sides." if not changed else "changed: " + "; ".join(changed))]
        out.append("")
    return "\n".join(out)


def _as_if_changed(a: Run, b: Run) -> list:
    """Verdicts of every torch and jax step and floor of B against A on the absolute/control basis."""
    from ..gate import compare
    from ..gate import rules as V
    affected = {"torch", "jax"}
    return [compare.judge_changed(a.cases[k], n, a, b, V.Rules(), affected)[0] for k, n in b.cases.items()
            if n.kind in ("throughput", "floor") and n.get("backend") in affected and k in a.cases]


def block_jax_sin_probe(run: Run) -> str:
    files = sorted((ROOT / "results").glob("jax-sin-probe-*.json"))
    if not files:
        return "no committed results/jax-sin-probe-*.json (python -m bench.studies.probe_jax_sin)\n"
    out = []
    for f in files:
        doc = json.loads(f.read_text())
        s = doc["ns_per_element"]
        out += [f"`results/{f.name}` ({doc['when'][:16]} UTC): XLA_FLAGS `{doc.get('xla_flags') or '(none)'}`, "
                f"n = 1e6 float32, {doc['rounds']} processes per side alternating, one thread; ns per element:", "",
                f"| pass | jax {s['a']['jax']} | jax {s['b']['jax']} | change |", "|---|---|---|---|"]
        for k in (k + off for k in ("sin", "cos", "sum", "sum_sin", "floor") for off in ("", "_ynn_off")):
            va, vb = s["a"].get(k), s["b"].get(k)
            out.append(f"| {k} | {'-' if va is None else f'{va:.2f}'} | {'-' if vb is None else f'{vb:.2f}'} | "
                       f"{f'{vb / va:.2f}x' if va and vb else '-'} |")
        out.append("")
    return "\n".join(out)


BLOCKS = {"hw-study": block_hw_study, "ab-runs": block_ab_runs, "jax-sin-probe": block_jax_sin_probe}
