"""One self-contained HTML page for a run: ``paritybench report RUN.json [BASELINE.json] --out page.html``.

Sections, in order: a partial-run mark where the run was interrupted, the verdict block
(paritybench/answer.py), the gate against BASELINE (if given: paritybench/compare.py), the throughput plot
(PNG, base64 inside the page), the per-group tables, the agreement tables, machine and versions.
No script, no external resource: the page opens from disk, offline.
"""
from __future__ import annotations

import base64
import html
import io
import json

from . import answer, compare, render
from .resultfile import Run

STYLE = """body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#111}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ccc}
pre{background:#f4f4f4;padding:.8em;white-space:pre-wrap}table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.partial{color:#b00;font-weight:bold}.note{color:#555;font-size:.9em}img{max-width:100%}"""


def _table(t: render.Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in t.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in t.text_rows())
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in t.notes)
    return f"<h3>{html.escape(t.title)}</h3><table><tr>{head}</tr>{rows}</table>{notes}"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def page(run: Run, baseline: Run | None = None, pictures: bool = True) -> str:
    """The page's HTML text."""
    ans = answer.answer(run)
    parts = [f"<h1>paritybench: {html.escape(run.path)}</h1>"]
    for p in filter(None, (run.partial, baseline.partial if baseline else None)):
        parts.append(f'<p class="partial" id="partial">{html.escape(p)}</p>')
    parts.append('<h2 id="answer">The answer</h2><pre>' + html.escape("\n".join(answer.lines(ans))) + "</pre>")
    if baseline is not None:
        d = compare.compare_runs(baseline, run)
        parts.append(f'<h2 id="gate">Against {html.escape(baseline.path)}</h2><pre>'
                     + html.escape("\n".join(d.header)) + "</pre>"
                     + "".join(_table(t) for t in compare.diff_tables(d))
                     + "<p>" + (html.escape(f"REGRESSION ({len(d.regressions)}): " + "; ".join(d.regressions))
                                if d.regressions else "no regression") + "</p>")
    if pictures:
        from . import plot
        fig = plot.throughput(run)
        if fig is not None:
            parts.append(f'<h2 id="plots">Throughput</h2><img alt="throughput against n" src="{_png(fig)}">')
            plot.plt.close(fig)
    parts.append('<h2 id="tables">Tables</h2>' + "".join(_table(t) for t in compare.run_tables(run)))
    machine = {k: run.machine_info.get(k) for k in ("python_version", "torch", "jax", "jaxlib", "optax", "numpy",
                                                     "numeric", "threads", "devices")}
    parts.append('<h2 id="machine">Machine and versions</h2><pre>'
                 + html.escape(json.dumps(machine, indent=1, default=str)) + "</pre>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>paritybench report</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>\n")
