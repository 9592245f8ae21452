"""bench/cache_repair.py on planted caches: what is cut short is found and removed, what is whole,
unowned or someone's build in progress is left alone (issue #34). No framework; < 1 s."""
from __future__ import annotations

import fcntl
import os
import shutil
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import cache_repair  # noqa: E402

REAL_SO = Path(__import__("_ctypes").__file__)  # a whole ELF shared object of this Python


def _kernel(d: Path, stem: str, data: bytes, suffix: str = ".so") -> Path:
    (d / stem[1:3]).mkdir(parents=True, exist_ok=True)
    (d / stem[1:3] / f"{stem}.cpp").write_text("// source\n")
    p = d / stem[1:3] / f"{stem}{suffix}"
    p.write_bytes(data)
    return p


@pytest.fixture
def inductor(tmp_path) -> Path:
    d = tmp_path / "paritybench-torch2.13.0+cpu-AVX2-0000abcd"
    (d / "locks").mkdir(parents=True)
    return d


def test_empty_cut_and_headerless_objects_are_found_whole_ones_are_not(inductor):
    whole = REAL_SO.read_bytes()
    empty = _kernel(inductor, "cempty.main", b"")
    cut = _kernel(inductor, "ccut.main", whole[: len(whole) // 2])
    junk = _kernel(inductor, "cjunk", b"\0" * 4096, ".o")
    good = _kernel(inductor, "cgood.main", whole)
    lone = inductor / "zz" / "nosource.so"  # no .cpp beside it: not inductor's kernel, not ours to judge
    lone.parent.mkdir()
    lone.write_bytes(b"")
    (inductor / "locks" / "cgood.lock").write_bytes(b"")  # locks are empty by design
    (inductor / "fxgraph" / "ab" / "fkey").mkdir(parents=True)
    entry = inductor / "fxgraph" / "ab" / "fkey" / "entry"
    entry.write_bytes(b"")
    found = {Path(r.path): r.why for r in cache_repair.scan("inductor", inductor)}
    assert set(found) == {empty, cut, junk, entry}, found
    assert found[empty] == "empty (0 bytes)" and "cut short" in found[cut] and "without an ELF header" in found[junk]
    removed = cache_repair.repair("inductor", inductor)
    assert {Path(r.path) for r in removed} == set(found)
    assert good.exists() and lone.exists() and not any(p.exists() for p in found)
    assert cache_repair.scan("inductor", inductor) == []
    line = cache_repair.line(removed, "before the run")
    assert line.startswith("cache repair (before the run): removed 4 truncated files") and "\n" not in line
    assert str(inductor) in line and "cempty.main.so (empty (0 bytes))" in line


def test_only_the_suites_own_directories_are_touched(tmp_path):
    other = tmp_path / "torchinductor_someone"  # a user's own inductor cache: never ours
    bad = _kernel(other, "cempty.main", b"")
    assert cache_repair.scan("inductor", other) == [] and cache_repair.repair("inductor", other) == []
    assert bad.exists()
    ours = other / "paritybench-torch2.13.0+cpu-AVX2-0000abcd"
    mine = _kernel(ours, "cempty.main", b"")
    assert cache_repair.inductor_dirs(other) == [str(ours)] and cache_repair.inductor_dirs(ours) == [str(ours)]
    assert [Path(r.path) for d in cache_repair.inductor_dirs(other) for r in cache_repair.repair("inductor", d)] == [mine]
    assert bad.exists()
    with pytest.raises(ValueError, match=r"^cache: got 'triton'; allowed: one of inductor, jax$"):
        cache_repair.scan("triton", ours)


def test_an_object_being_built_by_another_process_is_left_alone(inductor):
    building = _kernel(inductor, "cbusy.main", b"")
    lock = inductor / "locks" / "cbusy.lock"
    lock.write_bytes(b"")
    fd = os.open(lock, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # what inductor's FileLock holds while it builds
    try:
        assert [Path(r.path) for r in cache_repair.scan("inductor", inductor)] == [building]
        assert cache_repair.repair("inductor", inductor) == [] and building.exists()
    finally:
        os.close(fd)
    assert [Path(r.path) for r in cache_repair.repair("inductor", inductor)] == [building]


def test_jax_entries_cut_short_are_found(tmp_path):
    d = tmp_path / "jax"
    d.mkdir()
    blob = zlib.compress(os.urandom(20000))
    (d / "good-cache").write_bytes(blob)
    (d / "good-atime").write_bytes((123).to_bytes(8, "little"))
    (d / "cut-cache").write_bytes(blob[: len(blob) // 2])
    (d / "empty-cache").write_bytes(b"")
    (d / "short-atime").write_bytes(b"\1\2\3")
    found = {Path(r.path).name: r.why for r in cache_repair.repair("jax", d)}
    assert set(found) == {"cut-cache", "empty-cache", "short-atime"}, found
    assert "ends early" in found["cut-cache"] and found["empty-cache"] == "empty (0 bytes)"
    assert sorted(p.name for p in d.iterdir()) == ["good-atime", "good-cache"]


def test_a_failed_load_removes_the_object_it_names_in_our_cache_only(inductor, tmp_path):
    so = _kernel(inductor, "cpvw.main", b"")
    outside = tmp_path / "elsewhere.so"
    outside.write_bytes(b"")
    text = (f"torch._inductor.exc.InductorError: ImportError: {so}: file too short\n"
            f"ImportError: {outside}: file too short")
    assert cache_repair.failed_load("RuntimeError: something else " + str(so), inductor) == []
    fixed = cache_repair.failed_load(text, inductor)
    assert [Path(r.path) for r in fixed] == [so] and "loading it failed" in fixed[0].why
    assert not so.exists() and outside.exists()
    whole = _kernel(inductor, "cwhole.main", REAL_SO.read_bytes())  # named, but whole: not the cache's fault
    assert cache_repair.failed_load(f"ImportError: {whole}: invalid ELF header", inductor) == []
    assert whole.exists()


def test_the_default_inductor_base_is_inductors(monkeypatch, tmp_path):
    monkeypatch.delenv("TORCHINDUCTOR_CACHE_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import getpass
    import tempfile
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert cache_repair.inductor_base() == str(tmp_path / f"torchinductor_{getpass.getuser()}")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "x"))
    assert cache_repair.inductor_base() == str(tmp_path / "x")
    shutil.rmtree(tmp_path / "x", ignore_errors=True)
