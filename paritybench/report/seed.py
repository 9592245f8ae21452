"""The seed's blocks: the machine, throughput, overhead, spread, memory, malloc, floor check,
agreement, methods, tools and compare example of README.md, results/README.md and the docs (docs.py
fills them).
"""
from __future__ import annotations

from pathlib import Path
from statistics import median

from ..store.files import study_block
from ..text.tables import power10, us
from ..store.resultfile import Case, Run


def _x(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _tp(run: Run) -> list[Case]:
    return run.of_kind("throughput")


def _fastest(run: Run, backend: str, **key) -> Case | None:
    rows = [c for c in _tp(run) if c.get("backend") == backend and all(c.get(k) == v for k, v in key.items())]
    return min(rows, key=lambda c: c.seconds) if rows else None


def _ci(c: Case) -> str:
    """The floor ratio with its spread: [min, max] of the process medians (a file timed in several
    processes), else the 95% CI of the one process's median."""
    lo_hi = c.get("floor_ratio_range") or c.get("floor_ratio_ci95")
    return f"{c.get('floor_ratio'):.2f}x [{lo_hi[0]:.2f}, {lo_hi[1]:.2f}]" if lo_hi else _x(c.get("floor_ratio"))


def _range_name(run: Run) -> str:
    p = run.doc_extra.get("processes") or 1
    return f"range of {p} processes" if p > 1 else "95% CI"


def block_machine(run: Run) -> str:
    mi = run.machine_info
    num = mi.get("numeric", {})
    t, j = num.get("torch", {}), num.get("jax", {})
    p = run.doc_extra
    n_kind = {}
    for c in run.cases.values():
        n_kind[c.kind] = n_kind.get(c.kind, 0) + 1
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(n_kind.items()))
    threads = (mi.get("threads") or {}).get("set", "?")
    procs = p.get("processes") or 1
    malloc = (mi.get("malloc") or {}).get("mode", "default")
    return (f"`{Path(run.path).name}`: {num.get('cpu_model', '?')}, "
            f"{threads} thread{'' if threads == 1 else 's'}, {procs} process{'' if procs == 1 else 'es'} per "
            f"throughput case, malloc {malloc}, torch {mi.get('torch')} (CPU capability "
            f"{t.get('cpu_capability', '?')}), jax/jaxlib {mi.get('jax')}/{mi.get('jaxlib')} (XLA ISA "
            f"{j.get('xla_cpu_max_isa', '?')}), numpy {mi.get('numpy')}; profile {p.get('profile')}, "
            f"{len(run.cases)} cases ({kinds}), {len(p.get('skipped', []))} skipped with their reasons, "
            f"wall {p.get('wall_seconds', 0):.0f} s.\n")


def block_throughput(run: Run) -> str:
    keys = sorted({(c.get("dtype"), c.get("n"), c.get("optimizer"), c.get("E")) for c in _tp(run)
                   if c.get("device") == "cpu"}, key=lambda k: (k[0], k[3], k[1], k[2]))
    r = _range_name(run)
    out = [f"| dtype, n, optimizer, E | torch best | jax best | jax/torch | torch/floor [{r}] | jax/floor [{r}] |",
           "|---|---|---|---|---|---|"]
    for dtype, n, opt, E in keys:
        t = _fastest(run, "torch", dtype=dtype, n=n, optimizer=opt, E=E, device="cpu")
        j = _fastest(run, "jax", dtype=dtype, n=n, optimizer=opt, E=E, device="cpu")
        if t is None or j is None:
            continue
        out.append(f"| {dtype}, {power10(n)}, {opt}, {E} | {t.get('variant')} {us(t.seconds)} | "
                   f"{j.get('variant')} {us(j.seconds)} | {_x(j.seconds / t.seconds)} | {_ci(t)} | {_ci(j)} |")
    return "\n".join(out) + "\n"


def block_overhead(run: Run) -> str:
    """n = 1e3, E = 1, float32: each framework's fused variant against its one-step sibling."""
    out = []
    for b, (fused, single) in (("torch", ("compiled", "eager")), ("jax", ("scan", "jit"))):
        parts = []
        for opt in ("sgd", "adam"):
            f = _fastest(run, b, variant=fused, n=1000, E=1, optimizer=opt, dtype="float32", device="cpu")
            s = _fastest(run, b, variant=single, n=1000, E=1, optimizer=opt, dtype="float32", device="cpu")
            if f and s:
                parts.append(f"{opt} {us(s.seconds)} -> {us(f.seconds)} ({s.seconds / f.seconds:.1f}x)")
        if parts:
            out.append(f"- {b} {single} -> {fused} at n = 1e3: " + "; ".join(parts))
    return "\n".join(out) + "\n"


def block_spread(run: Run) -> str:
    sp = sorted((c.spread, c) for c in _tp(run))
    if not sp:
        return "no throughput case\n"
    widths = sorted((c.get("floor_ratio_range")[1] / c.get("floor_ratio_range")[0] - 1, c)
                    for c in _tp(run) if c.get("floor_ratio_range"))
    text = (f"Spread (IQR / median of the timed calls) from {100 * sp[0][0]:.0f}% (median "
            f"{100 * median(s for s, _ in sp):.0f}%) up to {100 * sp[-1][0]:.0f}% ({sp[-1][1].label}, "
            f"n = {sp[-1][1].get('n')}, {sp[-1][1].get('optimizer')}).")
    if widths:
        text += (f" Between the {run.doc_extra.get('processes')} processes that timed each case, the "
                 f"median floor ratios differ by {100 * median(w for w, _ in widths):.0f}% (highest / "
                 f"lowest - 1) at the median case, {100 * widths[-1][0]:.0f}% at the widest "
                 f"({widths[-1][1].label}, n = {widths[-1][1].get('n')}, {widths[-1][1].get('optimizer')}, "
                 f"E = {widths[-1][1].get('E')}).")
    return text + "\n"


def block_memory(run: Run) -> str:
    """Peak memory of the fastest variant of each framework per n (float32, sgd, E = 1, cpu)."""
    from ..gate.rules import memory_bytes
    out = ["| n | torch best: RSS added | jax best: RSS added | jax best: XLA compiled peak |", "|---|---|---|---|"]
    mb = lambda v: "-" if v is None else f"{v / 1e6:.1f} MB" if v >= 1e6 else f"{v / 1e3:.0f} kB"  # noqa: E731
    for n in sorted({c.get("n") for c in _tp(run) if c.get("E") == 1 and c.get("dtype") == "float32"}):
        t = _fastest(run, "torch", n=n, E=1, optimizer="sgd", dtype="float32", device="cpu")
        j = _fastest(run, "jax", n=n, E=1, optimizer="sgd", dtype="float32", device="cpu")
        if t is None or j is None:
            continue
        tm, jm = memory_bytes(t), memory_bytes(j)
        peak = (j.get("memory") or {}).get("compiled_peak_bytes")
        out.append(f"| {power10(n)} | {t.get('variant')} {mb(median(tm) if tm else None)} | {j.get('variant')} "
                   f"{mb(median(jm) if jm else None)} | {mb(peak)} |")
    return "\n".join(out) + "\n" if len(out) > 2 else "no memory figures in the baseline\n"


@study_block("malloc-faults-*.json", "bench.studies.malloc_faults")
def block_malloc(path: Path, doc: dict) -> str:
    """The newest committed results/malloc-faults-*.json (bench/studies/malloc_faults.py): page faults and
    time per step under glibc's default malloc policy and the bench's steady one."""
    by = {}
    for r in doc["rows"]:
        by.setdefault(r["case"], {})[r["mode"]] = r
    out = [f"`results/{path.name}`: {doc.get('cpu_model')}, {doc.get('libc')}, {doc['steps']} steps per "
           "case after 16 warm-up steps, one fresh process per row, one thread.", "",
           "| case | glibc default: faults/step | time/step | steady: faults/step | time/step |",
           "|---|---|---|---|---|"]
    for case, m in by.items():
        d, s_ = m.get("default"), m.get("steady")
        if d and s_:
            out.append(f"| {case} | {d['faults_per_step']:.0f} | {us(d['seconds_per_step'])} | "
                       f"{s_['faults_per_step']:.0f} | {us(s_['seconds_per_step'])} |")
    return "\n".join(out) + "\n"


def block_floor_check(run: Run) -> str:
    out = []
    for opt in ("sgd", "adam"):
        for b in ("torch", "jax"):
            c = _fastest(run, b, n=1_000_000, E=1, optimizer=opt, dtype="float32", device="cpu")
            if c is not None:
                out.append(f"- n = 1e6 {opt}, {b}-{c.get('variant')}: {_ci(c)} its own floor"
                           + ("" if c.get("floor_ratio") <= 1.5 else " (above 1.5x)"))
    return "\n".join(out) + "\n"


def block_agreement(run: Run) -> str:
    cases = run.of_kind("agreement")
    if not cases:
        return "no agreement case in the baseline\n"
    agree = sum(1 for c in cases if c.get("agree") is True)
    out = [f"{agree} of {len(cases)} agreement cases agree (profile {run.doc_extra.get('profile')})."]
    for dt in ("float32", "float64"):
        hs = sorted(c.get("horizon") for c in cases if c.get("dtype") == dt and c.get("chaotic")
                    and isinstance(c.get("horizon"), int))
        never = sum(1 for c in cases if c.get("dtype") == dt and c.get("x_max") == 1000
                    and c.get("horizon") is None)
        if hs or never:
            out.append(f"{dt}: chaotic cases part from the float64 reference at steps "
                       f"{hs[0] if hs else '-'} to {hs[-1] if hs else '-'}"
                       + (f"; {never} x_max = 1000 case(s) never part" if never else "") + ".")
    return " ".join(out) + "\n"


def block_methods(run: Run) -> str:
    cur = [c for c in run.of_kind("other") if c.get("kind") == "method" and c.get("method") == "curriculum"]
    sweep = [c for c in run.of_kind("other") if c.get("kind") == "method" and c.get("method") == "sweep"]
    out = []
    if cur:
        first, again = {}, {}
        for c in cur:
            first.setdefault(c.label, {})[c.get("dtype")] = c.get("first_call_seconds")
            again.setdefault(c.label, {})[c.get("dtype")] = c.seconds

        def times(by):
            return ", ".join(f"{k} {_short_time(v.get('float32'))}/{_short_time(v.get('float64'))}"
                             for k, v in sorted(by.items(), key=lambda kv: kv[1].get("float32") or 0))
        out.append("- curriculum to x_max 1e6, time to solution (float32/float64), the bench process's first run "
                   "(every stage set up and compiled): " + times(first))
        out.append("- the same run again in that process (median; compiled stages reused from memory): " + times(again))
    if sweep:
        out.append(f"- sweep of {sweep[0].get('ensemble')} starts x {sweep[0].get('steps')} steps at n = "
                   f"{sweep[0].get('n')} (float32): " + ", ".join(
                       f"{c.label} {c.get('trainings_per_second'):.0f} trainings/s ({_x(c.get('floor_ratio'))} floor)"
                       for c in sorted(sweep, key=lambda c: -c.get("trainings_per_second"))))
    return "\n".join(out) + "\n" if out else "no method case in the baseline\n"


def _short_time(s: float | None) -> str:
    if s is None:
        return "-"
    return f"{s * 1e3:.0f} ms" if s < 1 else f"{s:.1f} s"


def block_tools(run: Run) -> str:
    tools = [c for c in run.of_kind("other") if c.get("kind") == "tool"]
    if not tools:
        return "no tool case in the baseline\n"
    def name(c):
        f = c.get("files")
        return c.get("tool") + (f" ({f} file{'s' if f == 'two' else ''})" if f else "")
    return ", ".join(f"{name(c)} {_short_time(c.seconds)}" for c in tools) + " (median, whole command).\n"


def block_compare_example(run: Run) -> str:
    from ..render import one_run
    from ..text import tables as render
    t = next((t for t in one_run.throughput_tables(run, "jax-scan")
              if t.title == "n=1000000 E=1 sgd float32 cpu"), None)
    return (render.render([t], "markdown") + "\n") if t else "no n = 1e6 sgd case in the baseline\n"


BLOCKS = {"machine": block_machine, "throughput": block_throughput, "overhead": block_overhead,
          "spread": block_spread, "floor-check": block_floor_check, "memory": block_memory,
          "malloc": block_malloc, "agreement": block_agreement,
          "methods": block_methods, "tools": block_tools, "compare-example": block_compare_example}
