"""The run's settings: the --profile, --device, ... options (each also a PARITYBENCH_* variable), read
and validated in one place (a bad value is one line), the user's model files loaded and checked, and
the threads and malloc mode set before any framework runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench import frameworks, matrix, timing
from bench.harness.output import RUNS, _output_path
from bench.harness.state import _SETTINGS


# One thread by default: on a shared machine two threads on two vCPUs turn a neighbour's load into
# stalls of whole parallel regions, and the step/floor ratio drifted 4-6x more between runs
# (median |log| 0.067 against 0.012 at n >= 1e5, docs/compare.md). --threads all for scaling.
DEFAULT_THREADS = 1


def add_options(parser):
    g = parser.getgroup("paritybench")
    g.addoption("--profile", default=None, help="quick | default | full (quick: < 60 s, full adds n = 1e7); env PARITYBENCH_PROFILE")
    g.addoption("--device", default=None, help="comma list of cpu, gpu (cuda); env PARITYBENCH_DEVICE")
    g.addoption("--backend", default=None, help="comma list of reference, torch, jax; env PARITYBENCH_BACKEND")
    g.addoption("--model", default=None, help="comma list of seed, sparse-parity (impls/models) or path/to/model.py:Name "
                "(a model of your own, docs/models.md); default all built-in; env PARITYBENCH_MODEL")
    g.addoption("--threads", default=None, help="threads for torch and XLA (default 1: the gate's figures hold for one thread; 'all' = every CPU); env PARITYBENCH_THREADS")
    g.addoption("--results-dir", default=None, help="directory of the new result JSON (default results/runs/, ignored by git); env PARITYBENCH_RESULTS")
    g.addoption("--processes", default=None, help="processes per throughput case (default 4, quick profile 1: this one + replicas, 1 to 16); env PARITYBENCH_PROCESSES")
    g.addoption("--malloc", default=None, help="steady (default: glibc keeps freed blocks up to 32 MiB, no page faults per step) | default (glibc's thresholds); env PARITYBENCH_MALLOC")
    g.addoption("--deadline", default=None, help="seconds: cases that would start later skip with the reason; env PARITYBENCH_DEADLINE")
    g.addoption("--plant", default=None, help="CASE_ID=FACTOR,...: slow those cases down for real, to test the gate; env PARITYBENCH_PLANT")


def _opt(config, name: str, env: str):
    value = config.getoption(name)
    return os.environ.get(env) if value is None else value


_USER_MODELS: list = []  # the user's model files of this run (--model path.py:Name)


def _check_user_models(seed: int) -> None:
    """The same-model check of each user's model (impls/models/user/check.py) before anything is
    timed: a mismatch is one line (a usage error); after pin_threads, which must precede jax."""
    from impls.contract import Train
    from impls.models.user import check
    for m in _USER_MODELS:
        check.same_model(m, m.config(), Train(m.optim, seed=seed, steps=1))


def _models(text: str | None, builtin: tuple) -> tuple:
    """The --model list: built-in names, and user model files path/to/model.py:Name (loaded,
    registered in the matrix, and named in $PARITYBENCH_USER_MODELS for the run's fresh processes)."""
    from impls.models import get, user
    items = [s.strip() for s in (text or "").split(",") if s.strip()]
    specs = [s for s in items if user.is_spec(s)]
    names = [s for s in items if s not in specs]
    models = matrix.parse_list("model", ",".join(names) or None, builtin) if names or not specs else ()
    for spec in specs:
        m = get(spec)
        _USER_MODELS.append(m)
        matrix.register_user_model(m)
        models += (m.name,)
    if specs:
        path = lambda s: str(Path(s.rpartition(":")[0] if ".py:" in s else s).resolve()) + (":" + s.rpartition(":")[2] if ".py:" in s else "")  # noqa: E731
        os.environ[user.ENV] = ";".join(path(s) for s in specs)
    return models


def settings(config) -> dict:
    """Validated options; ValueError (one line) on bad input."""
    profile = matrix.check_choice("profile", _opt(config, "profile", "PARITYBENCH_PROFILE") or "default",
                                  matrix.PROFILES)
    devices = matrix.parse_list("device", _opt(config, "device", "PARITYBENCH_DEVICE"), matrix.DEVICES)
    backends = matrix.parse_list("backend", _opt(config, "backend", "PARITYBENCH_BACKEND"), matrix.BACKENDS)
    from impls.models import MODELS  # framework-free
    models = _models(_opt(config, "model", "PARITYBENCH_MODEL"), tuple(MODELS))
    raw = _opt(config, "threads", "PARITYBENCH_THREADS")
    threads = DEFAULT_THREADS
    if raw == "all":
        threads = frameworks.cpus()
    elif raw is not None:
        try:
            threads = int(raw)
        except ValueError:
            threads = 0
        if not 1 <= threads <= frameworks.cpus():
            raise ValueError(f"threads: got {raw!r}; allowed: an integer from 1 to {frameworks.cpus()}, or all")
    raw = _opt(config, "processes", "PARITYBENCH_PROCESSES")
    processes = matrix.PROCESSES[profile] if raw is None else (int(raw) if raw.strip().isdigit() else 0)
    if not 1 <= processes <= 16:
        raise ValueError(f"processes: got {raw!r}; allowed: an integer from 1 to 16")
    malloc = matrix.check_choice("malloc", _opt(config, "malloc", "PARITYBENCH_MALLOC") or "steady",
                                 frameworks.MALLOC_MODES)
    results = Path(_opt(config, "results_dir", "PARITYBENCH_RESULTS") or RUNS)
    plant = timing.parse_plant(_opt(config, "plant", "PARITYBENCH_PLANT"))
    known = {c.id for c in matrix.cases(profile) + matrix.model_cases(profile)}
    for cid in plant:
        if cid not in known:
            raise ValueError(f"plant: got case {cid!r}; allowed: a throughput case id of profile "
                             f"{profile}, e.g. {next(iter(sorted(known)))}")
    raw = _opt(config, "deadline", "PARITYBENCH_DEADLINE")
    deadline = None
    if raw is not None:
        try:
            deadline = float(raw)
        except ValueError:
            deadline = -1.0
        if not 0 < deadline < float("inf"):
            raise ValueError(f"deadline: got {raw!r}; allowed: a positive number of seconds")
    return {"profile": profile, "devices": devices, "backends": backends, "models": models, "threads": threads,
            "processes": processes, "malloc": malloc, "results_dir": results, "plant": plant,
            "deadline": deadline}


def configure(config):
    """The validated settings and the JSON's path (``output._output_path``), the threads and malloc
    mode set and the user's models checked: pytest.UsageError (one line) on bad input."""
    try:
        s = settings(config)
        path, user = _output_path(config, s)
        frameworks.pin_threads(s["threads"])
        frameworks.set_malloc(s["malloc"])
        _check_user_models(matrix.SEED)
    except (ValueError, RuntimeError) as e:
        raise pytest.UsageError(str(e)) from None
    _SETTINGS.update(s)
    _SETTINGS["cache_repairs"] = []
    return s, path
