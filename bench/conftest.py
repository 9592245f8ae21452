"""pytest-benchmark plumbing for ``pytest bench --benchmark-only``.

Options (each also an environment variable):
  --profile quick|default|full PARITYBENCH_PROFILE  quick: the headline in < 60 s; full adds n = 1e7
  --device cpu,gpu            PARITYBENCH_DEVICE    devices to run (cuda = gpu); default both
  --backend reference,torch,jax PARITYBENCH_BACKEND  frameworks to run; default all
  --model seed,sparse-parity  PARITYBENCH_MODEL     models to run (impls/models); default all
  --threads T                 PARITYBENCH_THREADS   threads of both frameworks; default 1 (see below)
  --results-dir DIR           PARITYBENCH_RESULTS   where the run's new JSON goes (default results/runs/,
                                                    created if missing, ignored by git: a user's runs
                                                    never become the committed baseline, results/BASELINE)
  --plant CASE_ID=F[,...]     PARITYBENCH_PLANT     make those cases F times slower, for real (gate tests)
  --deadline S                PARITYBENCH_DEADLINE  cases that would start S seconds or more after the
                                                    run began skip with that reason (bench/gpu_host.py
                                                    bounds a lent GPU's run this way); default none
  --processes P               PARITYBENCH_PROCESSES each throughput case timed in P processes (default 4:
                                                    this one + 3 replicas, bench/replicas.py; quick: 1)
  --malloc steady|default     PARITYBENCH_MALLOC    glibc malloc keeps freed memory (default steady: no
                                                    page faults per step for blocks up to 32 MiB)
Bad values end the run with one line and a non-zero exit before any benchmark runs.

The run's JSON is written new (``paritybench.files.write_new``: never over an existing file) to
``--benchmark-json PATH`` if given, else to a new ``results/runs/bench-<profile>-cpu<T>-<time>.json``.
It is enriched here: floor ratios in every step case's ``extra_info`` (throughput and tuned: own
floor, fastest floor, the machine's floor), a roofline in every step case (the bytes a step
must move over the device's copy bandwidth, measured at the end of the run: bench/bandwidth.py,
``paritybench.bandwidth`` in the JSON) and versions, device names and thread counts in
``machine_info``. Op cases (bench/test_ops.py) and the tuned tier run in the default and full
profiles; the summary lists the tuned tier apart from the default table. Cases of other kinds (``extra_info['kind']`` not
throughput/floor, e.g. the agreement runs) pass through untouched and are listed apart.

What a user sees: cases outside the chosen profile, backends or devices are deselected at
collection (one line says how many), not skipped; skips remain for what cannot run here (no
GPU, a missing framework), each reason once in the summary. One plain progress line per case
(done/total, elapsed, an ETA from the finished cases) instead of dots; after the last case the
replica processes (``pytest_runtestloop``). The summary ends with the answer block
(paritybench/answer.py) and where the JSON is, after pytest-benchmark's tables. Ctrl-C or
SIGTERM: the cases measured so far are written to the new JSON, marked ``"interrupted": true``
with the cases ``not_run``.

Caches: before the run, the suite's compile caches are scanned for files an interrupted compile
left cut short (bench/cache_repair.py; PARITYBENCH_CACHE_SCAN=no skips the scan); those are
removed, said in one line and listed in ``paritybench.cache_repairs``. A case whose compile fails
to load such a file (a concurrent interrupt) has it removed and runs once more.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from bench import cache_repair, frameworks, timing

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "results" / "runs"  # a user's runs (.gitignore); the committed baseline is named in results/BASELINE
# One thread by default: on a shared machine two threads on two vCPUs turn a neighbour's load into
# stalls of whole parallel regions, and the step/floor ratio drifted 4-6x more between runs
# (median |log| 0.067 against 0.012 at n >= 1e5, docs/compare.md). --threads all for scaling.
DEFAULT_THREADS = 1
_SETTINGS = {}
_SKIPPED: list[tuple[str, str]] = []
_STARTED = [time.time()]
_CONFIG: list = []


def pytest_addoption(parser):
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
    models = timing.parse_list("model", ",".join(names) or None, builtin) if names or not specs else ()
    for spec in specs:
        m = get(spec)
        _USER_MODELS.append(m)
        timing.register_user_model(m)
        models += (m.name,)
    if specs:
        path = lambda s: str(Path(s.rpartition(":")[0] if ".py:" in s else s).resolve()) + (":" + s.rpartition(":")[2] if ".py:" in s else "")  # noqa: E731
        os.environ[user.ENV] = ";".join(path(s) for s in specs)
    return models


def settings(config) -> dict:
    """Validated options; ValueError (one line) on bad input."""
    profile = timing.check_choice("profile", _opt(config, "profile", "PARITYBENCH_PROFILE") or "default",
                                  timing.PROFILES)
    devices = timing.parse_list("device", _opt(config, "device", "PARITYBENCH_DEVICE"), timing.DEVICES)
    backends = timing.parse_list("backend", _opt(config, "backend", "PARITYBENCH_BACKEND"), timing.BACKENDS)
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
    processes = timing.PROCESSES[profile] if raw is None else (int(raw) if raw.strip().isdigit() else 0)
    if not 1 <= processes <= 16:
        raise ValueError(f"processes: got {raw!r}; allowed: an integer from 1 to 16")
    malloc = timing.check_choice("malloc", _opt(config, "malloc", "PARITYBENCH_MALLOC") or "steady",
                                 frameworks.MALLOC_MODES)
    results = Path(_opt(config, "results_dir", "PARITYBENCH_RESULTS") or RUNS)
    plant = timing.parse_plant(_opt(config, "plant", "PARITYBENCH_PLANT"))
    known = {c.id for c in timing.cases(profile) + timing.model_cases(profile)}
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


def _output_path(config, s: dict):
    """(path or None, is_user_path). Checks that the JSON can be written new, before anything runs."""
    from paritybench.store.files import check_new

    user = config.getoption("benchmark_json")
    if hasattr(user, "write") and hasattr(user, "name"):  # pytest-benchmark 5.2.x: argparse opened it
        user = _reclaim(user)
    if user is not None:
        return check_new(user, "benchmark-json"), True
    d = s["results_dir"]
    if d == RUNS:
        d.mkdir(parents=True, exist_ok=True)
    if not d.is_dir() or not os.access(d, os.W_OK | os.X_OK):
        raise ValueError(f"results-dir: got {str(d)!r}; allowed: an existing, writable directory")
    return None, False


def _reclaim(f) -> str:
    """The path of a --benchmark-json that pytest-benchmark 5.2.x's argparse.FileType('wb') opened
    (and so created, or truncated) at parse time: closed and, being empty, removed, so that the
    suite writes it new like any path (5.3.x passes the path itself). A file that held data before
    was truncated by that parser, before this code ran: use 5.3.x, or a new path."""
    path = f.name
    f.close()
    p = Path(path)
    if p.is_file() and p.stat().st_size == 0:
        p.unlink()
    return path


def _repaired(repairs: list, when: str) -> None:
    """Record cache repairs (``paritybench.cache_repairs`` in the JSON) and say them in one line."""
    if not repairs:
        return
    _SETTINGS.setdefault("cache_repairs", []).extend(dict(r.as_dict(), when=when) for r in repairs)
    text = cache_repair.line(repairs, when)
    tr = _TR[0]
    if tr is not None:
        tr.write_line(text)
    else:  # before the session started (the scan in pytest_configure): said at its start
        _SETTINGS.setdefault("cache_lines", []).append(text)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A case whose compile failed to load a truncated object from the suite's inductor cache
    ("file too short", "invalid ELF header"): the object is removed, said, and the case run once more."""
    try:
        return (yield)
    except Exception as e:
        text, cause = [], e
        while cause is not None and len(text) < 8:
            text.append(f"{type(cause).__name__}: {cause}")
            cause = cause.__cause__ or cause.__context__
        fixed = [r for d in cache_repair.inductor_dirs(cache_repair.inductor_base())
                 for r in cache_repair.failed_load("\n".join(text), d)]
        if not fixed:
            raise
        _repaired(fixed, f"{item.name} failed to load them")
        return item.runtest()


def _terminate(signum, frame):
    """SIGTERM as Ctrl-C: pytest stops, and the cases measured so far are saved (marked interrupted)."""
    raise KeyboardInterrupt


def pytest_keyboard_interrupt(excinfo):
    """Keep only the cases that finished: pytest-benchmark lists a case before its first timed
    round, so the case being timed when the signal came would be saved empty or half-measured
    (and listed under not_run). A second Ctrl-C still ends the process at once."""
    _SETTINGS["interrupted"] = True
    bs = getattr(_CONFIG[0], "_benchmarksession", None) if _CONFIG else None
    if bs is not None:
        bs.benchmarks[:] = [b for b in bs.benchmarks if b.fullname in _PROGRESS["done"] and b]


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own configure made its session
def pytest_configure(config):
    try:
        s = settings(config)
        path, user = _output_path(config, s)
        frameworks.pin_threads(s["threads"])
        frameworks.set_malloc(s["malloc"])
        _check_user_models(timing.SEED)
    except (ValueError, RuntimeError) as e:
        raise pytest.UsageError(str(e)) from None
    _SETTINGS.update(s)
    _SETTINGS["cache_repairs"] = []
    if os.environ.get("PARITYBENCH_CACHE_SCAN", "yes") != "no":
        _repaired(cache_repair.repair_owned(), "before the run")
    _CONFIG[:] = [config]
    config.paritybench_settings = s
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    bs = getattr(config, "_benchmarksession", None)
    if bs is None:
        return

    def save_json(output_json):  # replaces pytest-benchmark's open(path, 'wb'): never overwrite
        from pytest_benchmark.utils import safe_dumps

        from paritybench.store.files import new_path, write_new
        stamp = time.strftime("%Y%m%dT%H%M%S")
        where = f"cpu{s['threads']}" if "cpu" in s["devices"] else "gpu"  # a GPU-only run is not a CPU baseline
        target = path or new_path(s["results_dir"], f"bench-{s['profile']}-{where}-{stamp}")
        text = safe_dumps(output_json, ensure_ascii=True, indent=4)
        try:
            write_new(target, text, "benchmark-json")
        except (ValueError, OSError) as e:
            bs.logger.warning(f"result JSON not written: {e}")
            _SETTINGS["write_error"] = str(e)
            return
        _SETTINGS["written"] = str(target)
        bs.logger.info(f"Wrote benchmark data in: {target}", purple=True)

    if not bs.disabled and not config.option.collectonly:
        bs.json = path or (s["results_dir"] / "pending.json")  # truthy: makes handle_saving write
        bs.save_json = save_json


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    """After the last case, the replica processes time every step case (throughput, tuned) again
    (bench/replicas.py); their rounds join each case's extra_info (``timing.process_info``).
    Not after an interrupt or a failed-first run (-x): a replica's failure fails the run."""
    result = yield
    bs = getattr(session.config, "_benchmarksession", None)
    n = _SETTINGS.get("processes", 1)
    if bs is None or n < 2 or session.shouldfail or session.shouldstop:
        return result
    todo = [b for b in bs.benchmarks if b.extra_info.get("kind") in timing.REPLICATED
            and b.extra_info.get("paired_ratios")]
    if not todo:
        return result
    from bench import replicas
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    say = (lambda line: tr.write_line(line)) if tr else print
    cases = [(timing.case_of(b.extra_info), b.extra_info.get("planted_slowdown"), b.extra_info.get("steps_per_call"),
              b.extra_info.get("floor_passes_per_call")) for b in todo]
    say(f"timing {len(cases)} throughput cases again in {n - 1} replica processes, one after the other")
    t0 = time.time()
    got, interrupted = replicas.run(cases, n - 1, _SETTINGS["threads"], timing.CASE_BUDGET[_SETTINGS["profile"]],
                                    say, _SETTINGS["malloc"], _SETTINGS.setdefault("replica_info", {}))
    _PROGRESS["phases"]["replicas"] = time.time() - t0
    for b, (c, *_) in zip(todo, cases):
        if not got[c.id]:
            continue  # interrupted before any replica reached it: the pytest process's rounds only
        e = b.extra_info
        own = {"paired_ratios": e["paired_ratios"], "round_seconds": e["round_seconds"],
               "compile_seconds": e.get("compile_seconds"), "memory": e.get("memory")}
        ok = [r for r in got[c.id] if isinstance(r, dict)]
        e.update(timing.process_info([own] + ok))
        for r in ok:  # what a replica removed from the run's JAX cache before its import
            _repaired([cache_repair.Repair(**x) for x in r.pop("cache_repairs", [])], f"replica {r.get('pid')}")
        errors = [r for r in got[c.id] if isinstance(r, str)]
        if errors:
            e["replica_errors"] = errors
            _SETTINGS.setdefault("replica_errors", []).append(f"{c.id}: {errors[0]}")
    for line in _SETTINGS.get("replica_errors", []):
        say(f"REPLICA FAILED {line}")
    if interrupted:  # pytest saves what was measured and ends as interrupted
        raise KeyboardInterrupt
    return result


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    """A run whose result JSON could not be written, or whose replicas failed, has failed."""
    if (_SETTINGS.get("write_error") or _SETTINGS.get("replica_errors")) and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def profile(pytestconfig) -> str:
    """'default' or 'full' (option --profile, env PARITYBENCH_PROFILE)."""
    return _SETTINGS.get("profile") or settings(pytestconfig)["profile"]


@pytest.fixture(scope="session")
def bench_settings(pytestconfig) -> dict:
    """All validated options: profile, devices, backends, threads, results_dir."""
    return dict(_SETTINGS) or settings(pytestconfig)


@pytest.fixture(scope="session")
def harness_seconds() -> float:
    """The harness's own cost per timed call: a timer pair around a no-op call (median of 2000)."""
    timer = time.perf_counter
    noop = lambda k: None  # noqa: E731
    samples = []
    for _ in range(2000):
        t0 = timer()
        noop(1)
        samples.append(timer() - t0)
    return timing.quartiles(samples)[1]


def _backend_device(params: dict) -> tuple:
    """(backend, device) of a collected case from its parameters (None where it has none)."""
    c = params.get("case") or params.get("floor_case") or params.get("op_case")
    if hasattr(c, "backend"):  # not pytest's NOTSET of an empty parameter set
        return c.backend, c.device
    return params.get("backend"), params.get("device")


def _model(params: dict) -> str:
    """The model a collected case times: a model case's (impls/models), else the seed's."""
    c = params.get("model_case")
    return getattr(c, "model", None) or params.get("model_name") or "seed"


def pytest_collection_modifyitems(config, items):
    """Deselect (not skip) what this run did not ask for: cases of another profile (a test
    module's ``in_profile``) and backends, devices or models left out by --backend / --device /
    --model."""
    s = getattr(config, "paritybench_settings", None)
    if not s:
        return
    keep, gone = [], {"profile": [], "choice": []}
    for item in items:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        in_profile = getattr(getattr(item, "module", None), "in_profile", None)
        backend, device = _backend_device(params)
        if in_profile is not None and not in_profile(s["profile"], item.originalname, params):
            gone["profile"].append(item)
        elif ((backend and backend not in s["backends"]) or (device and device not in s["devices"])
              or (backend == "reference" and device == "gpu")  # numpy has no GPU: not a case
              or _model(params) not in s.get("models", (_model(params),))):
            gone["choice"].append(item)
        else:
            keep.append(item)
    if gone["profile"] or gone["choice"]:
        config.hook.pytest_deselected(items=gone["profile"] + gone["choice"])
        items[:] = keep
    _SETTINGS["deselected"] = {k: len(v) for k, v in gone.items()}


def pytest_report_collectionfinish(config, start_path, items):
    d = _SETTINGS.get("deselected") or {}
    lines = []
    if d.get("profile"):
        lines.append(f"paritybench: {d['profile']} cases outside the {_SETTINGS.get('profile')} profile deselected "
                     "(--profile full runs every case)")
    if d.get("choice"):
        lines.append(f"paritybench: {d['choice']} cases of backends/devices/models not chosen (--backend, --device, --model) "
                     "or that cannot exist (numpy on a GPU) deselected")
    return lines


# ------------------------------------------------------------------ progress: one plain line per case

# Seconds per case before any case of the kind has finished (measured on the 2-core machine at
# 1 thread, default profile); replaced by the mean of the finished cases as they come in.
PRIOR_SECONDS = {"test_step": 1.6, "test_floor": 0.8, "test_op": 1.0, "test_agreement": 8.0, "test_time_to_solution": 3.0,
                 "test_sweep": 15.0, "test_compare": 4.0, "test_plot": 45.0}
_PROGRESS = {"items": {}, "done": {}, "took": {}, "phases": {}}  # items: nodeid -> test function, in run order
# The run's phases (``paritybench.phase_seconds`` in the JSON: where the wall time went), by test function.
PHASES = {"test_agreement": "agreement", "test_time_to_solution": "methods", "test_sweep": "methods",
          "test_step": "steps", "test_floor": "floors", "test_op": "ops", "test_compare": "tools",
          "test_plot": "tools", "test_scale": "scale"}


def phase_of(test: str, nodeid: str) -> str:
    """The phase a case's seconds count to: PHASES, tuned-tier steps apart ("tuned"), else the test's name."""
    phase = PHASES.get(test, test.removeprefix("test_"))
    return "tuned" if phase == "steps" and "-tuned-" in nodeid else phase


def pytest_collection_finish(session):
    _PROGRESS["items"] = {i.nodeid: i.originalname for i in session.items}


def eta_seconds(remaining: list[str], took: dict, replicas: int) -> float:
    """Seconds left: each remaining case at the mean of its kind's finished cases (else its prior),
    plus the replica processes' pass over the throughput cases (``replicas`` x every test_step)."""
    def per(kind):
        t = took.get(kind)
        return sum(t) / len(t) if t else PRIOR_SECONDS.get(kind, 5.0)
    steps = sum(k == "test_step" for k in remaining) + len(took.get("test_step", []))
    return sum(per(k) for k in remaining) + replicas * steps * per("test_step")


def _clock(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def pytest_runtest_logfinish(nodeid, location):
    items = _PROGRESS["items"]
    if not items:
        return
    kind = items.get(nodeid, "?")
    took = time.time() - _PROGRESS.pop("start", time.time())
    _PROGRESS["done"][nodeid] = True
    if nodeid not in _SKIPPED_IDS:
        _PROGRESS["took"].setdefault(kind, []).append(took)
    phase = phase_of(kind, nodeid)
    _PROGRESS["phases"][phase] = _PROGRESS["phases"].get(phase, 0.0) + took
    done = len(_PROGRESS["done"])
    elapsed = time.time() - _STARTED[0]
    remaining = [k for n, k in items.items() if n not in _PROGRESS["done"]]
    eta = eta_seconds(remaining, _PROGRESS["took"], max(0, _SETTINGS.get("processes", 1) - 1))
    line = (f"[{done}/{len(items)}] {_clock(elapsed)} elapsed, about {_clock(eta)} left: "
            f"{nodeid.split('::')[-1]} " + ("skipped" if nodeid in _SKIPPED_IDS else f"{took:.1f} s"))
    tr = _TR[0]
    if tr is not None:  # after pytest's "path/to/file.py " header when a file starts, else a line of its own
        tr.write(line + "\n", flush=True)


def pytest_runtest_logstart(nodeid, location):
    _PROGRESS["start"] = time.time()


def pytest_runtest_setup(item):
    """--deadline: a case that would start after it skips, with the reason, and is listed as such."""
    deadline = _SETTINGS.get("deadline")
    if deadline is not None and time.time() - _STARTED[0] >= deadline:
        pytest.skip(f"deadline: the run's --deadline of {deadline:g} s was spent before this case")


_TR = [None]
_SKIPPED_IDS: set = set()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None and hasattr(tr, "_tw"):
        _TR[0] = tr
        tr._show_progress_info = False  # our lines carry done/total; pytest's [ 22%] would split them
    for text in _SETTINGS.pop("cache_lines", []):
        (tr.write_line if tr is not None else print)(text)


def pytest_report_teststatus(report, config):
    """No progress dots: the progress lines above say more. Failures keep their letter."""
    if report.when == "call" and report.passed:
        return "passed", "", "PASSED"
    if report.skipped and report.when in ("setup", "call"):
        return "skipped", "", "SKIPPED"
    return None


def pytest_runtest_logreport(report):
    if report.skipped and report.when in ("setup", "call"):
        _SKIPPED_IDS.add(report.nodeid)
        longrepr = report.longrepr
        why = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        why = why.removeprefix("Skipped: ")
        _SKIPPED.append((report.nodeid.split("[")[-1].rstrip("]"), why))


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info.update(frameworks.versions())
    machine_info["devices"] = frameworks.device_names()
    machine_info["gpu"] = frameworks.gpu_info()
    if os.environ.get("PARITYBENCH_GPU_HOST"):  # bench/gpu_host.py: its versions and the GPU tests' outcome
        import json
        machine_info["gpu_host"] = json.loads(os.environ["PARITYBENCH_GPU_HOST"])
    machine_info["threads"] = frameworks.thread_counts()
    machine_info["threads"]["set"] = _SETTINGS.get("threads")
    machine_info["malloc"] = frameworks.malloc_info()
    machine_info["paritybench_profile"] = _SETTINGS.get("profile")
    from impls import numenv
    machine_info["numeric"] = numenv.describe(
        [b for b in ("torch", "jax") if b in (_SETTINGS.get("backends") or ())])


def pytest_benchmark_update_json(config, benchmarks, output_json):
    infos = [b.get("extra_info", {}) for b in output_json.get("benchmarks", [])]
    timing.add_floor_ratios(infos)
    bandwidth, t0 = {}, time.time()
    if not _SETTINGS.get("interrupted"):  # an interrupted run is saved at once, unmeasured
        from bench import bandwidth as bw
        for device in sorted({i["device"] for i in infos if i.get("kind") in timing.STEP_KINDS}):
            try:  # a failed measurement (out of memory, say) must not cost the run its JSON
                bandwidth[device] = bw.measure(device, _SETTINGS.get("backends") or timing.BACKENDS)
            except Exception as e:  # noqa: BLE001 - recorded, and the rooflines stay None
                bandwidth[device] = {"error": f"{type(e).__name__}: {e}"}
    timing.add_rooflines(infos, bandwidth)
    _PROGRESS["phases"]["bandwidth"] = time.time() - t0
    output_json["paritybench"] = {"bandwidth": bandwidth,"profile": _SETTINGS.get("profile"), "processes": _SETTINGS.get("processes"),
                                  "wall_seconds": time.time() - _STARTED[0],
                                  "phase_seconds": {k: round(v, 1) for k, v in _PROGRESS["phases"].items()},
                                  "skipped": [{"case": n, "reason": w} for n, w in _SKIPPED],
                                  "planted": _SETTINGS.get("plant") or {},
                                  "deadline": _SETTINGS.get("deadline"),
                                  "replicas": _SETTINGS.get("replica_info") or {},
                                  "cache_repairs": _SETTINGS.get("cache_repairs") or [],
                                  "interrupted": bool(_SETTINGS.get("interrupted")),
                                  "not_run": [n for n in _PROGRESS["items"] if n not in _PROGRESS["done"]]}


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
def pytest_terminal_summary(terminalreporter, config):
    bs = getattr(config, "_benchmarksession", None)
    if bs is None or (not bs.benchmarks and not _SKIPPED):
        return
    infos, others = [], []
    for b in bs.benchmarks:
        kind = b.extra_info.get("kind")
        if kind in timing.KINDS:
            infos.append(b.extra_info)
        elif b.stats:
            others.append((b.name, b.extra_info, b.stats.median))
    tr = terminalreporter
    tr.section("paritybench throughput summary")
    for line in timing.summary_lines(infos, _SKIPPED, others):
        tr.write_line(line)
    tr.write_line(f"profile {_SETTINGS.get('profile')}, threads {_SETTINGS.get('threads')}, "
                  f"processes per case {_SETTINGS.get('processes')}, "
                  f"wall {time.time() - _STARTED[0]:.0f} s")
    _answer_last(tr)


def _answer_last(tr) -> None:
    """The answer block (paritybench/answer.py), read back from the JSON the run wrote: the last
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
