"""The start of a run, cold and warm, each in a fresh process (bench/startup.py): kind "startup".

One case per backend x variant x device x n (float32, sgd, E = 1; quick: n = 1e3, the seed's
run; default and full: 1e3 and 1e6): a cold start on new, empty cache directories, then, for a
variant that compiles, a warm start on the directories it filled. numpy and torch eager compile
nothing and cache nothing: one start serves as both (``warm_measured`` False). The timed call
(pytest-benchmark's stats) is the starts' processes together, once; the figures that count are in
extra_info['cold'] and ['warm'] (bench/startup.py: import, data, prepare, first call, the rest of
the S0 steps, trajectory, run_seconds, the compile phases and cache hits). The case fails if a
cold start's caches were not empty (the child checks) or a warm start compiled anew (a cache miss).
paritybench/analyses/time_to_train.py turns them and the throughput cases' steps into T(S).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

from bench import frameworks, startup
from bench.matrix import DTYPE_TAG, VARIANTS

SIZES = {"quick": (1_000,), "default": (1_000, 1_000_000), "full": (1_000, 1_000_000)}


@dataclass(frozen=True)
class Start:
    backend: str
    variant: str
    device: str
    dtype: str
    n: int

    @property
    def id(self) -> str:
        """Stable id, e.g. startup-torch-compiled-cpu-f32-n1000."""
        return f"startup-{self.backend}-{self.variant}-{self.device}-{DTYPE_TAG[self.dtype]}-n{self.n}"

    @property
    def compiles(self) -> bool:
        return self.variant not in ("numpy", "eager")


def starts(profile: str, devices, backends) -> list[Start]:
    """The startup cases of a profile: the default tier's variants at SIZES[profile]."""
    out = []
    for device in devices:
        for n in SIZES[profile]:
            for b in backends:
                if b == "reference" and device != "cpu":
                    continue
                out += [Start(b, v, device, "float32", n) for v in VARIANTS[b]
                        if v != "graphed" or device == "gpu"]
    return out


def pytest_generate_tests(metafunc):
    if "start_case" in metafunc.fixturenames:
        s = metafunc.config.paritybench_settings
        cs = starts(s["profile"], s["devices"], s["backends"])
        metafunc.parametrize("start_case", cs, ids=[c.id for c in cs])


def test_startup(benchmark, start_case, bench_settings, tmp_path_factory):
    c = start_case
    frameworks.skip_unless_runs(c.backend, c.device)
    benchmark.group = f"startup {c.device} {c.dtype} n={c.n}"
    caches = tmp_path_factory.mktemp(c.id)  # new and empty: the cold start's
    kinds = startup.KINDS if c.compiles else ("cold",)
    recs = {}

    def starts_once():
        for kind in kinds:
            recs[kind] = startup.start(c.backend, c.variant, c.n, kind, caches, bench_settings["threads"],
                                       device=c.device, dtype=c.dtype, malloc=bench_settings["malloc"],
                                       steps=startup.steps_for(c.n))

    try:
        benchmark.pedantic(starts_once, rounds=1, iterations=1)
    finally:
        shutil.rmtree(caches, ignore_errors=True)
    info = {"kind": "startup", "backend": c.backend, "variant": c.variant, "device": c.device,
            "dtype": c.dtype, "n": c.n, "optimizer": "sgd", "E": 1, "steps": startup.steps_for(c.n),
            "cold": recs["cold"], "warm": recs.get("warm", recs["cold"]), "warm_measured": "warm" in recs,
            "timed": "fresh processes: import, data, prepare, S0 steps, trajectory (bench/startup.py)"}
    benchmark.extra_info.update(info)
    missed = startup.warm_missed(recs["warm"]) if "warm" in recs else None
    if missed:
        benchmark.extra_info.update(kind="failed", failure=f"warm start compiled anew: {missed}")
        pytest.fail(f"warm start compiled anew: {missed}")
