"""docs/gap.md's generated blocks (``paritybench report``): the op table and the attribution from
the committed baseline, and the gap study (bench/studies/gap_study.py) from its newest committed JSON."""
from __future__ import annotations

from pathlib import Path

from ..render import one_run
from ..analyses import explain
from ..store.files import study_block
from ..text.tables import power10, render, us
from ..store.resultfile import Run


def block_gap_ops(run: Run) -> str:
    tables = one_run.op_tables(run)
    if not tables:
        return "the baseline has no op cases (they run in the default and full profiles)\n"
    return render(tables, "markdown") + "\n"


def block_gap_explain(run: Run) -> str:
    tables = explain.step_table(run)
    if not tables:
        return "the baseline has no step case with op cases at its shape\n"
    return (render(tables, "markdown") + "\n\n" + "\n".join(f"- {line.strip()}" for line in explain.lines(run)) + "\n")


@study_block("gap-study-*.json", "bench.studies.gap_study")
def block_gap_study(path: Path, doc: dict) -> str:
    num = doc.get("numeric") or {}
    v = doc.get("versions") or {}
    out = [f"`results/{path.name}`: {num.get('cpu_model')}, one thread, n = {power10(doc['n'])} float32, "
           f"{doc['rounds']} rounds round robin, medians; jax {v.get('jax')}, jaxlib {v.get('jaxlib')}, "
           f"torch {v.get('torch')}, numpy {v.get('numpy')}.", "",
           "**One sin over 1e6 float32 arguments, ns per element**", "",
           "| arguments | " + " | ".join(dict.fromkeys(r["function"] for r in doc["sin"])) + " |",
           "|---|" + "---|" * len(dict.fromkeys(r["function"] for r in doc["sin"]))]
    by = {}
    for r in doc["sin"]:
        by.setdefault(r["arguments"], {})[r["function"]] = r["ns_per_element"]
    for label, row in by.items():
        out.append(f"| {label} | " + " | ".join(f"{x:.2f}" for x in row.values()) + " |")
    out += ["", "**The JAX step (scan, sgd) and the sin + cos pass under XLA options, per function "
            "(`jax.jit(..., compiler_options=...)`), ns per element**", "",
            "| options | step, jnp.sin | step, polynomials | sin+cos pass, jnp | sin+cos pass, polynomials |",
            "|---|---|---|---|---|"]
    xla = {}
    for r in doc["xla"]:
        xla.setdefault(r["options"], {})[(r["sin_cos"] != "polynomials", r["what"])] = r["ns_per_element"]
    for opts, row in xla.items():
        cells = [row.get(k) for k in ((True, "step"), (False, "step"), (True, "sincos pass"), (False, "sincos pass"))]
        out.append(f"| {opts} | " + " | ".join("-" if c is None else f"{c:.2f}" for c in cells) + " |")
    out += ["", "**torch.compile modes, the compiled step (sgd)**", "", "| mode | per step | ns per element |",
            "|---|---|---|"]
    out += [f"| {r['mode']} | {us(r['seconds_per_step'])} | {r['ns_per_element']:.2f} |" for r in doc["torch"]]
    out += ["", "**Max error of sin and cos against a wider evaluation (float64 for float32, long double "
            "for float64), ulps**", "", "| dtype | implementation | arguments | sin | cos |", "|---|---|---|---|---|"]
    out += [f"| {r['dtype']} | {r['implementation']} | {r['arguments']} | {r['max_ulp_sin']:.2f} | "
            f"{r['max_ulp_cos']:.2f} |" for r in doc["accuracy"]]
    return "\n".join(out) + "\n"


BLOCKS = {"gap-ops": block_gap_ops, "gap-explain": block_gap_explain, "gap-study": block_gap_study}
