"""Data parallel on each framework's own engine (torch.distributed gloo, jax.distributed + gloo):
two local processes against one, at every step; a dead or hung rank ends the run, bounded, with
no process left behind; ``paritybench train --processes``. Every process binds 127.0.0.1 only.

Tolerance: the P-process run changes only the order of the sums (P partial sums, then the
engine's all-reduce). The rounding bound of tests/tolerances.py covers any summation order
((n - 1) u mean|t|, Higham), so the P-process trajectory is held to the same derived tolerance
against the float64 reference as every variant, and to twice it against the one-process run.
Bit-identical where it must be: every rank holds the same w at every step (they apply the same
update to the same all-reduced sums), asserted with ``ranks_identical``.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import impls
from impls import Recipe, Trajectory, launch

from conftest import require
from test_equivalence import MAX_AMPLIFICATION, OPTIMIZERS, PROBLEM, STEPS, assert_steps, truth
from tolerances import trajectory_truth

from paritybench import cli

ONE_PROCESS_VARIANT = {"torch": "eager", "jax": "jit"}


def _config(backend: str, dtype: str, steps: int = STEPS, opt: str = "sgd") -> dict:
    return {"backend": backend, "variant": ONE_PROCESS_VARIANT[backend], "device": "cpu",
            "problem": {"n": PROBLEM.n, "x_max": PROBLEM.x_max, "seed": PROBLEM.seed},
            "recipe": Recipe(**OPTIMIZERS[opt], steps=steps, dtype=dtype).to_dict()}


def _workers_alive() -> list[int]:
    """pids of dist_worker processes still alive (zombies excluded)."""
    out = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes()
            state = (d / "stat").read_text().split(") ")[1][:1]
        except OSError:
            continue
        if b"impls.dist_worker" in cmd and state != "Z":
            out.append(int(d.name))
    return out


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_two_processes_match_one_at_every_step(backend, dtype):
    require(backend)
    ref, tol_w, tol_L = truth("sgd", dtype)
    traj, info = launch.run(_config(backend, dtype), 2, timeout=120)
    assert info["processes"] == 2 and info["ranks_identical"], info
    assert traj.w.shape == (STEPS + 1, 1)
    assert_steps(traj, ref, tol_w, tol_L, f"{backend} 2 processes {dtype}")
    one = impls.train(backend, impls.generate(PROBLEM), Recipe(**OPTIMIZERS["sgd"], steps=STEPS, dtype=dtype),
                      ONE_PROCESS_VARIANT[backend])
    assert_steps(traj, one, 2 * tol_w, 2 * tol_L, f"{backend} 2 processes vs 1, {dtype}")
    assert abs(traj.w[-1, 0] - traj.w[0, 0]) > 0.01  # the run moves
    assert _workers_alive() == []


@pytest.mark.parametrize("mode, timeout, message", [
    ("exit", 120, "rank 1 of 2 exited with status 3"),
    ("hang", 15, "no result within 15 s"),
])
def test_a_dead_or_hung_rank_ends_the_run_bounded_and_clean(mode, timeout, message):
    require("torch")
    t0 = time.time()
    with pytest.raises(launch.Failed, match=message):
        launch.run(_config("torch", "float32", steps=6), 2, timeout=timeout,
                   env={"PARITYBENCH_DIST_FAULT": f"1:3:{mode}"})
    took = time.time() - t0
    assert took < (30 if mode == "exit" else timeout + 15), took
    assert _workers_alive() == []


def test_train_with_processes_from_the_command_line(tmp_path, capsys):
    require("torch")
    require("jax")
    out = tmp_path / "run.json"
    code = cli.main(["train", "--processes", "2", "--n", "64", "--x-max", "16", "--steps", "5",
                     "--lr", "1e-2", "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0, text
    runs = json.loads(out.read_text())["runs"]
    by = {r["backend"]: r for r in runs}
    assert by["reference"]["processes"] == 1
    for b in ("torch", "jax"):
        assert by[b]["processes"] == 2 and by[b]["ranks_identical"] and by[b]["engine"]
        assert len(by[b]["w"]) == 6
    assert "torch-eager x2" in text and "jax-jit x2" in text
    assert _workers_alive() == []


@pytest.mark.parametrize("args, message", [
    (["--processes", "0"], "processes: got 0; allowed: an integer from 1 to 64"),
    (["--processes", "2", "--variant", "scan"], "variant: got 'scan'; allowed: for backends reference, torch, "
                                                "jax with --processes 2: one of eager, jit, numpy"),
    (["--processes", "2", "--method", "curriculum"], "processes: got 2; allowed: 1 with --method curriculum"),
    (["--processes", "2", "--timeout", "0"], "timeout: got 0.0; allowed: a number of seconds > 0"),
])
def test_bad_processes_input_is_one_line(args, message, capsys):
    assert cli.main(["train", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("backend, variant", [("torch", "eager"), ("jax", "scan")])
def test_sharded_ensemble_reproduces_one_process(backend, variant, dtype):
    """E = 6 members split 3 + 3 over 2 processes, gathered by the engine: every member's outcome
    as in one process, and every member's trajectory within its derived bound of its float64
    reference, at every step, in both runs (float64's bound, ~1e-12, caught a gather that went
    through float32)."""
    require(backend)
    from impls.outcome import classify
    w0 = tuple(float(v) for v in np.linspace(1.2, 1.9, 6))
    cfg = _config(backend, dtype)
    cfg.update(variant=variant, shard="ensemble")
    cfg["recipe"]["w0"] = list(w0)
    traj, info = launch.run(cfg, 2, timeout=120)
    assert info["ranks_identical"] and traj.w.shape == (STEPS + 1, 6)
    data = impls.generate(PROBLEM)
    one = impls.train(backend, data, Recipe(**OPTIMIZERS["sgd"], w0=w0, steps=STEPS, dtype=dtype), variant)
    assert classify(traj, data) == classify(one, data)
    for m, w in enumerate(w0):  # each member against its float64 reference, within its derived bound
        rec = Recipe(**OPTIMIZERS["sgd"], w0=w, steps=STEPS, dtype=dtype)
        ref = impls.train("reference", data, replace(rec, dtype="float64"))
        tol_w, tol_L, amp = trajectory_truth(data, rec, ref.w[:, 0])
        assert amp < MAX_AMPLIFICATION, (w, amp)
        for t in (traj, one):
            member = Trajectory(t.backend, t.variant, t.device, t.dtype, t.w[:, m], t.loss[:, m])
            assert_steps(member, ref, tol_w, tol_L, f"{backend}-{variant} member {m} (w0 {w:.3f})")
    assert _workers_alive() == []


LOOPBACK = {"0100007F", "0000000000000000FFFF00000100007F", "00000000000000000000000001000000"}


def _listening_addresses(pids: list[int]) -> list[str]:
    """Local addresses (hex, as /proc/net/tcp* writes them) of the LISTEN sockets of ``pids``."""
    inodes = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and f[9] in inodes:  # 0A: LISTEN
                out.append(f[1].split(":")[0])
    return out


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_every_listening_socket_is_on_loopback(backend):
    """While a 2-process run is up (rank 1 made to hang, so it stays up), every socket its ranks
    listen on (torch's store and gloo, jax's coordinator and gloo) is bound to 127.0.0.1."""
    require(backend)
    import threading
    seen = {}

    def look():
        deadline = time.time() + 10
        while time.time() < deadline and not seen.get("addrs"):
            time.sleep(0.5)
            pids = _workers_alive()
            addrs = _listening_addresses(pids)
            if len(pids) == 2 and len(addrs) >= 3:  # a store or coordinator and each rank's gloo
                seen["addrs"] = addrs
    th = threading.Thread(target=look)
    th.start()
    with pytest.raises(launch.Failed):
        launch.run(_config(backend, "float32", steps=6), 2, timeout=12,
                   env={"PARITYBENCH_DIST_FAULT": "1:3:hang"})
    th.join()
    assert seen.get("addrs"), "no listening sockets seen"
    assert all(a in LOOPBACK for a in seen["addrs"]), seen["addrs"]
    assert _workers_alive() == []


def test_sharded_convergence_map_gives_the_one_process_fractions():
    """The convergence map with each cell's members split over 2 processes: the same fraction
    solved per cell as one process (plain at x_max 6, the curriculum at x_max 1000)."""
    require("jax")
    from impls import methods
    for args in (dict(x_maxes=[6], lrs=[4e-4], methods=["plain"], ensemble=32),
                 dict(x_maxes=[1000], lrs=[1.0], methods=["curriculum"], ensemble=8)):
        one = methods.convergence_map("jax", **args)
        two = methods.convergence_map("jax", **args, processes=2, timeout=120)
        assert [c["solved"] for c in two] == [c["solved"] for c in one], (args, one, two)
    assert _workers_alive() == []


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_two_processes_on_two_gpus(backend):
    """NCCL (torch) and JAX's GPU collectives: one GPU per rank, so it needs two GPUs; skipped with
    the reason elsewhere (the lent machines have one)."""
    require(backend, "gpu")
    if backend == "torch":
        import torch
        count = torch.cuda.device_count()
    else:
        import jax
        count = len(jax.devices("gpu"))
    if count < 2:
        pytest.skip(f"{backend} on gpu: data parallel over 2 ranks needs 2 GPUs, found {count}")
    cfg = _config(backend, "float32")
    cfg["device"] = "gpu"
    ref, tol_w, tol_L = truth("sgd", "float32")
    traj, info = launch.run(cfg, 2, timeout=300)
    assert info["ranks_identical"]
    assert_steps(traj, ref, tol_w, tol_L, f"{backend} 2 GPUs")
    assert _workers_alive() == []
