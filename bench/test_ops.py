"""Op cases: the step's building blocks (impls.spec.OPS) timed per framework, tier and shape, each
paired with the framework's own floor pass like a step (bench/test_throughput.py ``measure``).

They answer where a step's time goes: ``paritybench explain RUN`` attributes each step to its ops
and names the op behind most of a cross-framework ratio (paritybench/analyses/explain.py, docs/gap.md).
Timed in the pytest process only (not in replica processes): they explain, the gate judges steps.
"""
from __future__ import annotations

from bench import matrix, runners, timing
from bench.test_throughput import _time_case, require


def pytest_generate_tests(metafunc):
    s = metafunc.config.paritybench_settings  # validated in bench/conftest.py's pytest_configure
    if "op_case" in metafunc.fixturenames:
        os_ = matrix.ops(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("op_case", os_, ids=[o.id for o in os_])


def in_profile(profile: str, test: str, params: dict) -> bool:
    """The quick profile has no op cases: its empty parameter set is deselected, not skipped."""
    return isinstance(params.get("op_case"), matrix.Op)


def test_op(benchmark, op_case, bench_settings, harness_seconds):
    """k fused passes of one building block per timed call, in rounds paired with the floor."""
    o = op_case
    require(o.backend, o.device)
    benchmark.group = f"op {o.device} {o.dtype} n={o.n} E={o.E}"
    floor = runners.build_floor(o)
    fn = runners.build_op(o)
    _time_case(benchmark, fn, o.backend, o.backend != "reference", bench_settings, harness_seconds,
               lambda *a: timing.op_info(o, *a), floor=floor)
