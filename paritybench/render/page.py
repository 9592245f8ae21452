"""One self-contained HTML page for a run: ``paritybench report RUN.json [BASELINE.json] --out page.html``.

Sections, in order: a partial-run mark where a run was interrupted; the answer (paritybench/analyses/answer.py);
with BASELINE, the gate's verdicts (paritybench/gate/compare.py): counts, a small paired-ratio plot per
slower/faster case, the cases found in one file only folded in ``<details>``; the decision drawn
(paritybench/render/figures.py): time to train against steps, step time against n with the jax/torch
ratio and its 95% interval, the agreement grid; every table, folded; the machine as a two-column
table of the fields that matter (differences against the baseline first), the full record folded.
Figures are PNG data: URIs with their pixel size and a one-line caption. No script, no external
resource: the page opens from disk, offline.
"""
from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from ..analyses import answer
from ..gate import compare
from . import one_run
from ..text import tables as render
from ..store.resultfile import Run

STYLE = """body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#111}
h1{font-size:1.35em;margin:.2em 0}h2{font-size:1.12em;margin-top:1.4em;border-bottom:1px solid #ccc}
.sub{color:#555;margin:0 0 .6em}.lead{font-size:1.05em;margin:.3em 0}ul.answer{margin:.2em 0;padding-left:1.2em}
ul.answer li{font-family:ui-monospace,monospace;font-size:.85em}li.l2,li.l3{margin-left:2em;list-style:circle}
figure{margin:.8em 0}.gate p{margin:.25em 0}.gate details{display:inline-block;margin:.2em 1.5em .2em 0;vertical-align:top}
figure img{max-width:100%;height:auto;display:block}figcaption{color:#333;font-size:.92em;margin-top:.2em}
pre{background:#f4f4f4;padding:.8em;white-space:pre-wrap}table{border-collapse:collapse;margin:.6em 0}
td,th{border:1px solid #ccc;padding:2px 8px;text-align:right;vertical-align:top}
td:first-child,th:first-child{text-align:left}table.kv td,table.kv th{text-align:left}
table.kv td:first-child{white-space:nowrap}tr.differs td{background:#fff3cd}
.partial{color:#b00;font-weight:bold}.bad{color:#b00;font-weight:bold}.good{color:#070}.note{color:#555;font-size:.9em}
details{margin:.4em 0}summary{cursor:pointer;color:#124}"""


def _table(t: render.Table) -> str:
    head = "".join(f"<th>{html.escape(c.name)}</th>" for c in t.columns)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in r) + "</tr>" for r in t.text_rows())
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in t.notes)
    return f"<h3>{html.escape(t.title)}</h3><table><tr>{head}</tr>{rows}</table>{notes}"


def _figure(fig, fid: str, alt: str, caption: str, dpi: int = 80) -> str:
    """``fig`` as a PNG data: URI in a <figure> with its pixel size and a one-line caption; closes fig."""
    from .plot import plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    png = buf.getvalue()
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")  # the IHDR chunk's size
    src = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return (f'<figure id="{fid}"><img alt="{html.escape(alt)}" width="{w}" height="{h}" src="{src}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _answer(ans: dict) -> str:
    first, *rest = answer.lines(ans)
    items = "".join(f'<li class="l{min((len(line) - len(line.lstrip())) // 2, 3)}">{html.escape(line.strip())}</li>'
                    for line in rest)
    return (f'<h2 id="answer">The answer</h2><p class="lead">{html.escape(first)}</p>'
            f'<ul class="answer">{items}</ul>')


def _folded(title: str, names: list[str]) -> str:
    items = "".join(f"<li>{html.escape(n)}</li>" for n in names)
    return f"<details><summary>{html.escape(title)} ({len(names)})</summary><ul>{items}</ul></details>"


GATE_PLOTS = 24  # slower/faster cases drawn at most (the slower first)


def _gate(run: Run, baseline: Run, pictures: bool) -> str:
    """The gate's verdicts of ``run`` against ``baseline`` (compare.compare_runs)."""
    out = [f'<h2 id="gate">Against {html.escape(Path(baseline.path).name)}</h2>']
    try:
        d = compare.compare_runs(baseline, run)
    except ValueError as e:
        return out[0] + f'<p class="bad">{html.escape(str(e))}</p>'
    counts: dict[str, int] = {}
    for r in d.rows:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    given = d.verdicts  # False: different hardware, no timing verdict drawn
    tally = ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
    if d.regressions:
        head = f'<p class="bad">REGRESSION ({len(d.regressions)}): {html.escape("; ".join(d.regressions))}</p>'
    elif given:
        head = '<p class="good">no regression</p>'
    else:
        head = '<p class="bad">no timing verdict: the machines differ (see the basis below)</p>'
    out += [head, f"<p>{len(d.rows)} cases in both files: {html.escape(tally)}."
            + (f' <span id="only">{len(d.only_old) + len(d.only_new)} cases are in one file only: '
               f"{len(d.only_old)} only in the baseline, {len(d.only_new)} only in this run.</span>"
               if d.only_old or d.only_new else "") + "</p>",
            f'<p class="note">{html.escape(d.basis)}</p>']
    if pictures and given:
        from . import figures
        fig = figures.gate_cases(baseline, run, d.rows, GATE_PLOTS)
        if fig is not None:
            out.append(_figure(fig, "fig-gate", "paired ratios of the slower and faster cases",
                               "Each slower or faster case: its per-round step/floor ratios, old against new "
                               "(a colour per process; black bar: the median of the process medians)."))
        moved = counts.get("slower", 0) + counts.get("faster", 0)
        if moved > GATE_PLOTS:
            out.append(f'<p class="note">{moved - GATE_PLOTS} more slower or faster cases, not drawn: '
                       "every case is in the table below.</p>")
    out += [_folded(t, names) for t, names in (("only in the baseline", d.only_old),
                                                ("only in this run", d.only_new)) if names]
    out.append("<details><summary>every common case: ratios, p-values, verdict</summary><pre>"
               + html.escape("\n".join(d.header)) + "</pre>" + _table(d.table) + "</details>")
    return '<section class="gate">' + "\n".join(out) + "</section>"


def _time_to_train(run: Run):
    """(figure, caption): cold and warm starts from the run's startup cases (plot.time_to_train_figure,
    paritybench/analyses/time_to_train.py); a file without them: its compile seconds + S x step."""
    from . import figures, plot
    fig = plot.time_to_train_figure(run)
    if fig is not None:
        fig.suptitle("")  # the caption says it, and the page's title names the file
        fig.tight_layout()
        return fig, ("Time to train S steps in a fresh process (import, compile, steps), cold (dashed) and warm "
                     "(solid) caches: the lowest line at your S is the one to use; circles mark where it changes.")
    return figures.time_to_train(run), (
        "Time to train S steps, compilation included (the run's compile seconds + S x its step time; no "
        "startup cases in this file, so no cold start): the lowest line at your S is the one to use; "
        "circles mark where it changes.")


def _figures(run: Run, ans: dict) -> str:
    from . import figures as F
    ttt, ttt_caption = _time_to_train(run)
    specs = (
        (lambda r: ttt, "fig-time-to-train", "time to train against steps", ttt_caption),
        (lambda r: F.step_time(r, ans["bands"]), "fig-step-time", "step time against n, and the jax/torch ratio",
         "Seconds per step against n, sgd (dashed: each framework's floor pass); below, the answer's fastest "
         "jax / fastest torch with its 95% interval: under 1, jax is faster at that n."),
        (F.agreement, "fig-agreement", "agreement grid",
         "Outcome per input range, recipe and backend (colour), h = the step where w parts from the "
         "float64 reference; hatched: chaotic, judged by ensembles; red frame: a disagreement."))
    out = ['<h2 id="plots">The decision, drawn</h2>']
    for fn, fid, alt, caption in specs:
        fig = fn(run)
        if fig is not None:
            out.append(_figure(fig, fid, alt, caption))
    return "\n".join(out) if len(out) > 1 else ""


MACHINE_FIELDS = (  # (label, flattened machine_info key or a function of the run)
    ("CPU", "numeric.cpu_model"), ("cores", "cpu.count"), ("ISA", "numeric.isa"),
    ("threads per process", "threads.set"), ("processes per case", lambda r: r.doc_extra.get("processes") or 1),
    ("malloc", "malloc.mode"), ("GPU", lambda r: ", ".join(sorted(map(str, (r.machine_info.get("gpu") or {}).values())))
                                or None),
    ("python", "python_version"), ("torch", "torch"), ("torch CPU capability", "numeric.torch.cpu_capability"),
    ("jax / jaxlib", lambda r: f"{r.machine_info.get('jax')} / {r.machine_info.get('jaxlib')}"),
    ("XLA CPU ISA", "numeric.jax.xla_cpu_max_isa"), ("optax", "optax"), ("numpy", "numpy"),
    ("numpy BLAS", "numeric.numpy_blas"), ("libc", "numeric.libc"), ("pytest-benchmark", lambda r: r.version),
    ("profile", lambda r: r.doc_extra.get("profile")), ("cases", lambda r: len(r.cases)),
    ("wall", lambda r: f"{r.doc_extra['wall_seconds']:.0f} s" if r.doc_extra.get("wall_seconds") else None),
    ("date", lambda r: r.datetime[:19]),
    ("commit", lambda r: str(r.commit_info.get("id"))[:12] + (" (dirty)" if r.commit_info.get("dirty") else "")))


def _value(run: Run, key) -> str:
    v = key(run) if callable(key) else run.machine_info
    for part in [] if callable(key) else key.split("."):
        v = v.get(part) if isinstance(v, dict) else None
    if isinstance(v, (list, tuple)):
        v = ", ".join(map(str, v))
    return "-" if v in (None, "") else str(v)


def _machine(run: Run, baseline: Run | None) -> str:
    rows = [(label, _value(run, k), _value(baseline, k) if baseline else None) for label, k in MACHINE_FIELDS]
    differ = [r for r in rows if baseline is not None and r[1] != r[2]]
    same = [r for r in rows if r not in differ]
    cells = [f'<tr class="differs"><td>{html.escape(a)}</td><td>{html.escape(v)} '
             f'<span class="note">(baseline: {html.escape(b)})</span></td></tr>' for a, v, b in differ]
    cells += [f"<tr><td>{html.escape(a)}</td><td>{html.escape(v)}</td></tr>" for a, v, _ in same]
    note = (f"<p>{len(differ)} of {len(rows)} fields differ from the baseline's (listed first).</p>"
            if baseline is not None else "")
    full = html.escape(json.dumps(run.machine_info, indent=1, default=str))
    return (f'<h2 id="machine">Machine and versions</h2>{note}<table class="kv" id="machine-table">'
            f'<tr><th>field</th><th>this run</th></tr>{"".join(cells)}</table>'
            f"<details><summary>the full machine record (machine_info)</summary><pre>{full}</pre></details>")


def page(run: Run, baseline: Run | None = None, pictures: bool = True) -> str:
    """The page's HTML text."""
    mi = run.machine_info.get("numeric") or {}
    parts = [f"<h1>paritybench: {html.escape(Path(run.path).name)}</h1>",
             f'<p class="sub">{html.escape(str(mi.get("cpu_model", "?")))}, profile '
             f'{html.escape(str(run.doc_extra.get("profile")))}, {len(run.cases)} cases, {html.escape(run.datetime[:16])} UTC'
             + (f"; against {html.escape(Path(baseline.path).name)}" if baseline else "") + "</p>"]
    for p in filter(None, (run.partial, baseline.partial if baseline else None)):
        parts.append(f'<p class="partial" id="partial">{html.escape(p)}</p>')
    ans = answer.answer(run)
    parts.append(_answer(ans))
    if baseline is not None:
        parts.append(_gate(run, baseline, pictures))
    if pictures:
        parts.append(_figures(run, ans))
    parts.append('<h2 id="tables">Tables</h2><details><summary>every case of this run, by group '
                 f"({len(run.cases)} cases)</summary>" + "".join(_table(t) for t in one_run.run_tables(run))
                 + "</details>")
    parts.append(_machine(run, baseline))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>paritybench report</title>"
            f"<style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>\n")
