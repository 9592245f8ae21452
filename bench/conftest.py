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

The run's JSON is written new (``paritybench.store.files.write_new``: never over an existing file) to
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
(paritybench/analyses/answer.py) and where the JSON is, after pytest-benchmark's tables. Ctrl-C or
SIGTERM: the cases measured so far are written to the new JSON, marked ``"interrupted": true``
with the cases ``not_run``.

Caches: before the run, the suite's compile caches are scanned for files an interrupted compile
left cut short (bench/cache_repair.py; PARITYBENCH_CACHE_SCAN=no skips the scan); those are
removed, said in one line and listed in ``paritybench.cache_repairs``. A case whose compile fails
to load such a file (a concurrent interrupt) has it removed and runs once more.

The hooks below only delegate, each to the module of bench/harness/ that does that job: settings
(options, variables, validation), selection (deselection, --deadline), progress (lines, ETA,
phases), output (the JSON's path, writing it new, interrupts), repairs (compile caches),
replica_pass (after the last case), json_fields (machine_info, the JSON's fields), terminal_summary.
"""
from __future__ import annotations

import time

import pytest

from bench import timing
from bench.harness import (json_fields, output, progress, repairs, replica_pass, selection, settings,
                           terminal_summary)
from bench.harness.state import _SETTINGS


def pytest_addoption(parser):
    settings.add_options(parser)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's own configure made its session
def pytest_configure(config):
    s, path = settings.configure(config)
    repairs.scan_before_run()
    output.start(config, s, path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from repairs.retry_failed_load(item))


def pytest_keyboard_interrupt(excinfo):
    output.keep_finished(excinfo)


@pytest.hookimpl(wrapper=True)
def pytest_runtestloop(session):
    return (yield from replica_pass.after_last_case(session))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    output.fail_if_unsaved(session, exitstatus)


@pytest.fixture(scope="session")
def profile(pytestconfig) -> str:
    """'default' or 'full' (option --profile, env PARITYBENCH_PROFILE)."""
    return _SETTINGS.get("profile") or settings.settings(pytestconfig)["profile"]


@pytest.fixture(scope="session")
def bench_settings(pytestconfig) -> dict:
    """All validated options: profile, devices, backends, threads, results_dir."""
    return dict(_SETTINGS) or settings.settings(pytestconfig)


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


def pytest_collection_modifyitems(config, items):
    selection.deselect(config, items)


def pytest_report_collectionfinish(config, start_path, items):
    return selection.deselected_lines(config, start_path, items)


def pytest_collection_finish(session):
    progress.record_items(session)


def pytest_runtest_logstart(nodeid, location):
    progress.case_started(nodeid, location)


def pytest_runtest_setup(item):
    selection.skip_past_deadline(item)


def pytest_runtest_logfinish(nodeid, location):
    progress.case_finished(nodeid, location)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    progress.session_started(session)


def pytest_report_teststatus(report, config):
    return progress.teststatus(report, config)


def pytest_runtest_logreport(report):
    progress.record_skip(report)


def pytest_benchmark_update_machine_info(config, machine_info):
    json_fields.add_machine_info(config, machine_info)


def pytest_benchmark_update_json(config, benchmarks, output_json):
    json_fields.add_run_fields(config, benchmarks, output_json)


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's tables
def pytest_terminal_summary(terminalreporter, config):
    terminal_summary.write_summary(terminalreporter, config)
