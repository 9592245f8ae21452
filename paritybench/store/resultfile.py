"""Load and validate a result file: pytest-benchmark JSON (format 3.x to 5.x) with the suite's extra_info.

A result file is read once, never written. Every defect is one line, ``ValueError``:
``<role>: got '<path>' (<what is wrong>); allowed: <what a result file is>``.

Per case the suite uses ``stats`` (seconds per timed call: median, q1, q3, iqr, min, rounds) and
``extra_info``; ``steps_per_call`` (throughput) or ``passes_per_call`` (floor) turn seconds per call
into seconds per step. Kinds: "throughput", "tuned" (the tuned tier's steps, docs/gap.md), "floor",
"op" (a building block of the step, per pass like a floor), "agreement", a model's "model-throughput", "model-agreement" and "time-to-solve" (paritybench/analyses/model_results.py); anything else is "other".
"""
from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass, field
from statistics import median
from pathlib import Path

ALLOWED = "a pytest-benchmark JSON file (format 3.x to 5.x, as written by --benchmark-json)"
TOP_KEYS = ("machine_info", "commit_info", "benchmarks", "datetime", "version")
STAT_KEYS = ("median", "q1", "q3", "iqr", "min", "max", "mean", "rounds")
KINDS = ("throughput", "tuned", "floor", "op", "agreement",
         "model-throughput", "model-agreement", "time-to-solve")  # the last three: paritybench/analyses/model_results.py
PASS_KINDS = ("floor", "op")  # seconds per pass (passes_per_call), the others per step


@dataclass(frozen=True)
class Case:
    """One benchmark: its id, its kind, the timing per unit of work, and its extra_info.

    seconds: median seconds per step (throughput, agreement: per call when steps are unknown) or
    per floor pass; q1, q3: the quartiles on the same scale; spread = iqr / median.
    """

    name: str
    fullname: str
    kind: str
    seconds: float
    q1: float
    q3: float
    rounds: int
    info: dict = field(default_factory=dict)

    @property
    def spread(self) -> float:
        return (self.q3 - self.q1) / self.seconds

    @property
    def label(self) -> str:
        """backend-variant (floors: floor-backend), the column a reader looks for."""
        b, v = self.info.get("backend", "?"), self.info.get("variant")
        if self.kind == "floor":
            return f"floor-{b}"
        if self.kind == "op":
            tier = self.info.get("tier")
            return f"op-{b}{'' if tier in (None, 'default') else '-' + str(tier)}-{self.info.get('op')}"
        return f"{b}-{v}" if v else str(b)

    def get(self, key, default=None):
        return self.info.get(key, default)


@dataclass(frozen=True)
class Run:
    """A validated result file: path, machine_info, commit_info, datetime, version, cases by fullname."""

    path: str
    machine_info: dict
    commit_info: dict
    datetime: str
    version: str
    cases: dict  # fullname -> Case, in file order
    doc_extra: dict = field(default_factory=dict)  # the suite's top-level 'paritybench' object

    def of_kind(self, kind: str) -> list[Case]:
        return [c for c in self.cases.values() if c.kind == kind]

    @property
    def partial(self) -> str | None:
        """One line when the run was interrupted (Ctrl-C, SIGTERM: bench/conftest.py), else None."""
        if not self.doc_extra.get("interrupted"):
            return None
        left = self.doc_extra.get("not_run") or []
        return (f"PARTIAL RUN: {Path(self.path).name} was interrupted; {len(self.cases)} cases measured, "
                f"{len(left)} not run")


def _bad(role: str, path, problem: str) -> ValueError:
    return ValueError(f"{role}: got {str(path)!r} ({problem}); allowed: {ALLOWED}")


def _reject_constant(name: str):
    raise ValueError(name)


def load(path: str | Path, role: str = "run") -> Run:
    """Read and validate ``path``; ValueError (one line naming ``role``, the file and the defect)."""
    p = Path(path)
    if not p.exists():
        raise _bad(role, path, "no such file")
    if p.is_dir():
        raise _bad(role, path, "a directory, not a file")
    try:
        text = p.read_bytes().decode("utf-8")
    except PermissionError:
        raise _bad(role, path, "not readable: permission denied") from None
    except OSError as e:
        raise _bad(role, path, f"not readable: {e.strerror}") from None
    except UnicodeDecodeError:
        raise _bad(role, path, "not JSON: not UTF-8 text") from None
    if not text.strip():
        raise _bad(role, path, "empty file")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        if e.pos >= len(text.rstrip()):
            raise _bad(role, path, f"truncated JSON: ends inside a value at line {e.lineno}") from None
        raise _bad(role, path, f"not JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise _bad(role, path, "not JSON: nested too deeply") from None
    return parse(doc, path, role)


def parse(doc, path="<memory>", role: str = "run") -> Run:
    """Validate a decoded document (see ``load``)."""
    if not isinstance(doc, dict) or "benchmarks" not in doc:
        what = type(doc).__name__
        raise _bad(role, path, f"JSON but not pytest-benchmark output: a {what} without 'benchmarks'")
    version = doc.get("version")
    major = version.split(".")[0] if isinstance(version, str) else ""
    if not major.isdigit() or int(major) < 3:
        raise _bad(role, path, f"an old pytest-benchmark format (version {version!r}); re-run with "
                               "pytest-benchmark >= 3")
    missing = [k for k in TOP_KEYS if k not in doc]
    if missing:
        raise _bad(role, path, f"not pytest-benchmark output: lacks {', '.join(missing)}")
    benches = doc["benchmarks"]
    if not isinstance(benches, list) or not benches:
        raise _bad(role, path, "no benchmark in it: 'benchmarks' is empty")
    if not isinstance(doc["machine_info"], dict):
        raise _bad(role, path, "not pytest-benchmark output: machine_info is not an object")
    cases: dict[str, Case] = {}
    for i, b in enumerate(benches):
        case = _case(b, i, path, role)
        if case.fullname in cases:
            raise _bad(role, path, f"benchmark {case.fullname!r} appears twice")
        cases[case.fullname] = case
    if not isinstance(doc.get("commit_info") or {}, dict):
        raise _bad(role, path, "not pytest-benchmark output: commit_info is not an object")
    extra = doc.get("paritybench")
    return Run(str(path), doc["machine_info"], doc.get("commit_info") or {}, str(doc["datetime"]),
               version, cases, extra if isinstance(extra, dict) else {})


def _case(b, i: int, path, role: str) -> Case:
    if not isinstance(b, dict) or not isinstance(b.get("stats"), dict) or "fullname" not in b:
        raise _bad(role, path, f"benchmark #{i} is not a pytest-benchmark record (needs fullname, stats)")
    name = str(b.get("name", b["fullname"]))
    stats = b["stats"]
    missing = [k for k in STAT_KEYS if k not in stats]
    if missing:
        raise _bad(role, path, f"an old pytest-benchmark format: {name} stats lack {', '.join(missing)}")
    for k in ("median", "q1", "q3", "min"):
        v = stats[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
            raise _bad(role, path, f"{name}: stats.{k} is {v!r}, not a positive finite time")
    rounds = stats["rounds"]
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise _bad(role, path, f"{name}: stats.rounds is {rounds!r}, not a positive integer")
    info = b.get("extra_info") or {}
    if not isinstance(info, dict):
        raise _bad(role, path, f"{name}: extra_info is not an object")
    kind = info.get("kind") if info.get("kind") in KINDS else "other"
    per = info.get("passes_per_call") if kind in PASS_KINDS else info.get("steps_per_call")
    if per is not None and (isinstance(per, bool) or not isinstance(per, (int, float))
                            or not math.isfinite(per) or per <= 0):
        raise _bad(role, path, f"{name}: extra_info steps/passes per call is {per!r}, not a positive number")
    per = float(per or 1)
    return Case(name, str(b["fullname"]), kind, stats["median"] / per, stats["q1"] / per,
                stats["q3"] / per, int(stats["rounds"]), info)


def process_info(runs: list[dict]) -> dict:
    """extra_info fields of a case timed in several processes (bench/replicas.py, paritybench/gate/ab.py).

    runs[i] = {paired_ratios, round_seconds, compile_seconds, memory[, jax_cache_hits]} of process i;
    runs[0] is the pytest process (whose ``paired_info`` fields stay). A replica's jax_cache_hits:
    the programs it loaded from the run's JAX compilation cache instead of compiling them. floor_ratio becomes the median of the process
    medians, floor_ratio_range their [min, max]: the spread no single process shows.
    """
    meds = [median(r["paired_ratios"]) for r in runs]
    mem = [(r.get("memory") or {}).get("peak_rss_increase_bytes") for r in runs]
    return {"processes": len(runs), "process_peak_rss_increase_bytes": mem,
            "process_paired_ratios": [r["paired_ratios"] for r in runs],
            "process_round_seconds": [r["round_seconds"] for r in runs],
            "process_compile_seconds": [r.get("compile_seconds") for r in runs],
            "process_jax_cache_hits": [r.get("jax_cache_hits") for r in runs],
            "floor_ratio": median(meds), "floor_ratio_processes": meds,
            "floor_ratio_range": [min(meds), max(meds)]}


def flatten(d, prefix: str = "") -> dict:
    """{'cpu': {'count': 2}} -> {'cpu.count': 2}; lists kept as values (long ones summarised)."""
    out = {}
    for k, v in (d or {}).items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        elif isinstance(v, list) and len(v) > 8:
            out[key] = f"<{len(v)} items, crc {zlib.crc32(json.dumps(v, sort_keys=True).encode()):08x}>"
        else:
            out[key] = v
    return out
