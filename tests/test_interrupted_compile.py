"""One run never breaks the next (issue #34): real bench runs, each on caches of its own (TMPDIR and
so inductor's default cache dir and the replicas' JAX cache all under tmp_path).

inductor: a run interrupted (SIGINT to its process group, as Ctrl-C) while the C++ build writes a
kernel's .so leaves it cut short; the next run removes it, says so, and passes. A 0-byte .so
planted at the path of a kernel the next case needs: removed before the run; with the scan off,
removed after the load fails, and the case run again.
JAX: a run interrupted while its replica compiles into the run's JAX cache leaves no cache and no
process behind, and the next run completes; a cut cache entry makes jax compile anew in every
later process (it never replaces an entry) until the suite removes it.

Each test and the fixture take 10-65 s here (2 vCPUs, at load 5: the module 3 min; torch's C++
builds dominate).
"""
from __future__ import annotations

import glob
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cache_repair  # noqa: E402

# Ctrl-C's handler back for a run started from a background job (which inherits SIGINT ignored)
START = ("import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
         "sys.argv[0] = 'pytest'; runpy.run_module('pytest', run_name='__main__')")
TORCH_CASE = ["--backend", "torch", "-k", "test_floor and floor-torch-cpu-f32-n1000-E1"]
JAX_CASE = ["--backend", "jax", "--processes", "2", "-k", "test_step and jax-jit-cpu-f32-n1000-sgd-E1"]
TIMEOUT = 240


def _bench(tmp: Path, out: Path, case: list[str], **env) -> subprocess.Popen:
    e = {k: v for k, v in os.environ.items() if k not in ("TORCHINDUCTOR_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR")}
    e.update(TMPDIR=str(tmp), **env)
    log = open(out.with_suffix(".log"), "w")
    return subprocess.Popen([sys.executable, "-c", START, "bench", "--benchmark-only", "-q", "-p", "no:cacheprovider",
                             "--profile", "quick", "--device", "cpu", *case, "--benchmark-json", str(out)],
                            cwd=ROOT, env=e, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _finish(p: subprocess.Popen, out: Path) -> tuple[int, str]:
    """Wait (bounded), check that nothing of the run's process group is left, return (rc, output)."""
    try:
        rc = p.wait(timeout=TIMEOUT)
        for _ in range(200):
            try:
                os.killpg(p.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("a process of the run is still alive")
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return rc, out.with_suffix(".log").read_text()


def _interrupt_when(p: subprocess.Popen, pattern: str, limit: float = TIMEOUT) -> str:
    """SIGINT to the run's process group as soon as a file matching ``pattern`` exists; its path."""
    deadline = time.time() + limit
    while time.time() < deadline and p.poll() is None:
        found = glob.glob(pattern, recursive=True)
        if found:
            os.killpg(p.pid, signal.SIGINT)
            return found[0]
        time.sleep(0.001)
    pytest.fail(f"no {pattern} within {limit:.0f} s (run ended: {p.poll()})")


def _inductor_dir(tmp: Path) -> Path:
    dirs = glob.glob(str(tmp / "torchinductor_*" / "paritybench-*"))
    assert len(dirs) == 1, dirs
    return Path(dirs[0])


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory):
    """A torch floor case interrupted as soon as its kernel's .so exists (the link has begun)."""
    pytest.importorskip("torch")
    tmp = tmp_path_factory.mktemp("inductor-sigint")
    p = _bench(tmp, tmp / "first.json", TORCH_CASE)
    so = _interrupt_when(p, str(tmp / "torchinductor_*" / "paritybench-*" / "**" / "*.main.so"))
    rc, log = _finish(p, tmp / "first.json")
    cut = {Path(r.path): r.why for r in cache_repair.scan("inductor", _inductor_dir(tmp))}
    return {"tmp": tmp, "so": Path(so), "rc": rc, "log": log, "cut": cut}


def test_sigint_during_inductors_build_then_the_next_run_passes(interrupted):
    r, tmp = interrupted, interrupted["tmp"]
    assert r["rc"] == 2, r["log"]  # pytest's "interrupted"
    assert r["so"] in r["cut"], (r["so"], r["cut"])  # the interrupt left the kernel cut short
    rc, log = _finish(_bench(tmp, tmp / "second.json", TORCH_CASE), tmp / "second.json")
    assert rc == 0, log
    line = next(x for x in log.splitlines() if x.startswith("cache repair (before the run): removed"))
    assert r["so"].name in line and "empty (0 bytes)" in line
    repairs = json.loads((tmp / "second.json").read_text())["paritybench"]["cache_repairs"]
    assert {Path(x["path"]) for x in repairs} == set(r["cut"]) and all(x["when"] == "before the run" for x in repairs)
    assert cache_repair.elf_problem(str(r["so"])) is None  # built again, whole


def _plant_empty_kernels(tmp: Path) -> list[Path]:
    kernels = sorted(_inductor_dir(tmp).glob("*/*.main.so"))
    assert kernels
    for k in kernels:
        k.write_bytes(b"")
    return kernels


def test_a_planted_empty_kernel_is_removed_before_the_run(interrupted):
    tmp = interrupted["tmp"]
    kernels = _plant_empty_kernels(tmp)
    rc, log = _finish(_bench(tmp, tmp / "planted.json", TORCH_CASE), tmp / "planted.json")
    assert rc == 0, log
    line = next(x for x in log.splitlines() if x.startswith("cache repair (before the run)"))
    assert all(k.name in line for k in kernels[:4]) and "empty (0 bytes)" in line, line
    repairs = json.loads((tmp / "planted.json").read_text())["paritybench"]["cache_repairs"]
    assert {Path(x["path"]) for x in repairs} == set(kernels)
    assert all(cache_repair.elf_problem(str(k)) is None for k in kernels)


def test_with_the_scan_off_a_kernel_that_fails_to_load_is_removed_and_the_case_rerun(interrupted):
    """PARITYBENCH_CACHE_SCAN=no: the planted kernel is loaded, fails ("file too short"), is removed,
    and the case passes on its second try, saying so."""
    tmp = interrupted["tmp"]
    kernels = _plant_empty_kernels(tmp)
    rc, log = _finish(_bench(tmp, tmp / "retry.json", TORCH_CASE, PARITYBENCH_CACHE_SCAN="no"), tmp / "retry.json")
    assert rc == 0, log
    assert "cache repair (before the run)" not in log
    line = next(x for x in log.splitlines() if x.startswith("cache repair (test_floor["))
    assert "failed to load them" in line and "loading it failed" in line, line
    repairs = json.loads((tmp / "retry.json").read_text())["paritybench"]["cache_repairs"]
    assert repairs and {Path(x["path"]) for x in repairs} <= set(kernels)
    assert all(cache_repair.elf_problem(str(Path(x["path"]))) is None for x in repairs)


def test_sigint_while_a_replica_fills_the_jax_cache_then_the_next_run_passes(tmp_path):
    pytest.importorskip("jax")
    p = _bench(tmp_path, tmp_path / "first.json", JAX_CASE)
    entry = _interrupt_when(p, str(tmp_path / "paritybench-replica-jax-cache-*" / "*-cache"))
    rc1, log1 = _finish(p, tmp_path / "first.json")
    assert rc1 == 2 and "replica 1/1: interrupted" in log1, log1
    assert not os.path.exists(os.path.dirname(entry))  # the run's JAX cache went with it
    first = json.loads((tmp_path / "first.json").read_text())
    assert first["paritybench"]["interrupted"] is True
    rc2, log2 = _finish(_bench(tmp_path, tmp_path / "second.json", JAX_CASE), tmp_path / "second.json")
    assert rc2 == 0, log2
    second = json.loads((tmp_path / "second.json").read_text())
    (case,) = [b["extra_info"] for b in second["benchmarks"] if b["extra_info"].get("kind") == "throughput"]
    assert case["processes"] == 2 and second["paritybench"]["replicas"]["jax_compile_cache"]["files"] > 0
    assert not glob.glob(str(tmp_path / "paritybench-replica-jax-cache-*"))


JAX_CHILD = r"""
import json, jax, jax.numpy as jnp, jax.monitoring
got = {"hits": 0}
jax.monitoring.register_event_listener(
    lambda name, **kw: got.__setitem__("hits", got["hits"] + (name == "/jax/compilation_cache/cache_hits")))
print(float(jax.jit(lambda x: (jnp.sin(x) ** 2).sum())(jnp.arange(1000.0))))
print(json.dumps(got))
"""


def test_a_cut_jax_entry_is_compiled_anew_in_every_process_until_removed(tmp_path):
    """jax warns and compiles anew on a cut entry and never replaces it (lru_cache.put keeps an
    existing file): every later process pays the compile. Removed, the next process writes it
    whole and the one after loads it."""
    pytest.importorskip("jax")
    from bench.frameworks import jax_cache_env

    cache = tmp_path / "jax"
    env = {**os.environ, **jax_cache_env(cache)}

    def run():
        r = subprocess.run([sys.executable, "-c", JAX_CHILD], env=env, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout.strip().splitlines()[-1])["hits"], r.stderr

    assert run()[0] == 0
    entries = sorted(cache.glob("*-cache"))  # one per program (arange, the jitted function)
    assert entries
    whole = {e: e.read_bytes() for e in entries}
    for e in entries:
        e.write_bytes(whole[e][: len(whole[e]) // 2])  # what an interrupted write leaves
    hits, err = run()
    assert hits == 0 and "Error reading persistent compilation cache entry" in err
    assert all(e.stat().st_size == len(whole[e]) // 2 for e in entries)  # not replaced: every later process misses
    removed = cache_repair.repair("jax", cache)
    assert sorted(Path(r.path) for r in removed) == entries and all("ends early" in r.why for r in removed)
    assert run()[0] == 0 and all(cache_repair.jax_entry_problem(str(e)) is None for e in entries)
    assert run()[0] == len(entries)
