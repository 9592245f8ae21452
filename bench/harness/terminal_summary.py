"""What a run prints last: the paritybench throughput summary (bench/summary.py renders it), the
settings line, and the answer block read back from the JSON the run wrote, ending with where it is."""
from __future__ import annotations

import time

from bench import matrix, summary
from bench.harness.state import _SETTINGS, _SKIPPED, _STARTED


def write_summary(terminalreporter, config):
    bs = getattr(config, "_benchmarksession", None)
    if bs is None or (not bs.benchmarks and not _SKIPPED):
        return
    infos, others = [], []
    for b in bs.benchmarks:
        kind = b.extra_info.get("kind")
        if kind in matrix.KINDS:
            infos.append(b.extra_info)
        elif b.stats:
            others.append((b.name, b.extra_info, b.stats.median))
    tr = terminalreporter
    tr.section("paritybench throughput summary")
    for line in summary.summary_lines(infos, _SKIPPED, others):
        tr.write_line(line)
    tr.write_line(f"profile {_SETTINGS.get('profile')}, threads {_SETTINGS.get('threads')}, "
                  f"processes per case {_SETTINGS.get('processes')}, "
                  f"wall {time.time() - _STARTED[0]:.0f} s")
    _answer_last(tr)


def _answer_last(tr) -> None:
    """The answer block (paritybench/analyses/answer.py), read back from the JSON the run wrote: the last
    thing a bench run prints, ending with where the JSON is."""
    if "written" not in _SETTINGS:
        tr.write_line(f"JSON: not written ({_SETTINGS.get('write_error', 'no result file for this run')})")
        return
    from paritybench.analyses import answer
    from paritybench.store import resultfile
    try:
        lines = answer.lines(answer.answer(resultfile.load(_SETTINGS["written"], "run")))
    except ValueError as e:
        lines = [f"paritybench answer: not available ({e})", f"  JSON: {_SETTINGS['written']}"]
    tr.section("paritybench answer")
    for line in lines:
        tr.write_line(line)
