"""`paritybench train`: one configuration, every chosen backend/variant, one line each.

``--model`` picks the model (impls/models): "seed" (the default) or "sparse-parity".

Defaults are the seed's setup: n = 1000, x_max = 1000, seed 0, sgd, lr 4e-4, w0 1.5, 100 steps,
float32, cpu, every available backend with every variant.

With ``--model sparse-parity`` (Barak et al. 2022): n_bits 30, k 3, width 1000, batch 32, sgd lr
0.1, weight decay 0.01 (the paper's), a budget of 20,000 steps scored every 100 on held-out data,
float32, cpu. The numpy float64 reference always runs first: it is the baseline of every run's
horizon; each run stops at its first solved score (impls/models/run.py, impls/models/outcome.py).
Options of one model given with the other are refused (one line, exit 2) before anything trains.

``--processes P`` (P > 1) trains torch and JAX data parallel on P local processes each
(impls/launch.py: torch.distributed with gloo, jax.distributed with gloo collectives; torch
eager and jax jit), the numpy reference in this process; a rank that dies or hangs past
``--timeout`` ends the run with one line and exit 1, every process stopped (docs/scale.md).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
import sys
import time

import numpy as np

from impls import data as datamod
from impls import methods, metrics, models, registry
from impls.outcome import classify, horizon, part_tol
from impls.spec import DTYPES, LOSSES, OPTIMIZERS, Problem, Recipe, canonical_device, invalid

from ..store.files import check_new, write_new
from .train_model import MODEL_ONLY, MODEL_STEPS, run_model


SEED_ONLY = {  # dest -> default: the seed's own options (absent from args unless given)
    "n": 1000, "x_max": 1000, "method": "plain", "schedule": None, "loss": "mse", "w0": [1.5],
    "data": None, "save_data": None, "processes": 1, "shard": "data", "timeout": 300.0,
}
SEED_STEPS = 100


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train one configuration with every chosen backend",
                       description=__doc__)
    S = argparse.SUPPRESS  # a model's own options: absent unless given, so the other model can refuse them
    p.add_argument("--model", default="seed", help="seed (default), sparse-parity (impls/models), or a "
                   "model of your own: path/to/model.py:Name (docs/models.md)")
    p.add_argument("--backend", nargs="+", metavar="NAME",
                   help="backends to run (" + ", ".join(registry.BACKENDS) + "); default: all available")
    p.add_argument("--variant", nargs="+", metavar="NAME",
                   help="variants to run: " + "; ".join(f"{b}: {', '.join(v)}" for b, v in registry.VARIANTS.items())
                   + " (default: all of each backend; sparse-parity: torch eager, compiled; jax jit, scan)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or gpu (cuda and gpu are the same device)")
    p.add_argument("--dtype", default="float32", help=" or ".join(DTYPES))
    p.add_argument("--n", type=_number(int), default=S, help="training set size (seed; default 1000)")
    p.add_argument("--x-max", type=_number(int), default=S, help="x drawn from [0, x_max) (seed; default 1000)")
    p.add_argument("--seed", type=_number(int), default=0)
    p.add_argument("--optimizer", default="sgd", help=", ".join(OPTIMIZERS))
    p.add_argument("--lr", type=_number(float), default=None,
                   help="step size (default 4e-4); for --method curriculum eta = lr X^2 (default 1), scaled: 1; "
                        "sparse-parity: 0.1")
    p.add_argument("--method", default=S, help="plain, scaled or curriculum (impls.methods; seed)")
    p.add_argument("--schedule", type=_number(int), nargs="+", metavar="X", default=S,
                   help="curriculum ranges, increasing, last <= x_max (default: derived from w0 and x_max)")
    p.add_argument("--momentum", type=_number(float), default=0.9, help="for --optimizer momentum")
    p.add_argument("--nesterov", action="store_true", help="for --optimizer momentum")
    p.add_argument("--loss", default=S, help=" or ".join(LOSSES) + " (seed)")
    p.add_argument("--w0", type=_number(float), nargs="+", default=S,
                   help="initial weight; several values train an ensemble (seed; default 1.5)")
    p.add_argument("--steps", type=_number(int), default=None,
                   help=f"steps (seed: default {SEED_STEPS}); sparse-parity: the budget (default {MODEL_STEPS})")
    p.add_argument("--data", metavar="FILE.npz", default=S, help="train on arrays x and y of this file (seed)")
    p.add_argument("--save-data", metavar="FILE.npz", default=S, help="write the training data here (new file; seed)")
    p.add_argument("--json", metavar="FILE", help="write the problem, recipe and runs here (new file)")
    p.add_argument("--processes", type=_number(int), default=S,
                   help="P > 1: torch and jax data parallel on P local processes each (docs/scale.md; seed)")
    p.add_argument("--shard", default=S,
                   help="with --processes: data (split x, y; torch eager, jax jit) or ensemble (split "
                        "the E members of --w0; every variant)")
    p.add_argument("--timeout", type=_number(float), default=S,
                   help="with --processes: seconds the P processes of one framework may take in all")
    g = p.add_argument_group("--model sparse-parity")
    g.add_argument("--n-bits", type=_number(int), default=S, help="input bits n (default 30)")
    g.add_argument("--k", type=_number(int), default=S, help="secret bits k, 1 <= k <= n (default 3)")
    g.add_argument("--width", type=_number(int), default=S, help="hidden units (default 1000)")
    g.add_argument("--batch", type=_number(int), default=S, help="samples per step (default 32)")
    g.add_argument("--weight-decay", type=_number(float), default=S, help="added to the gradient (default 0.01)")
    g.add_argument("--param", action="append", metavar="NAME=VALUE", default=S,
                   help="a parameter of a user's model file (path.py:Name), typed by its default; repeatable")
    g.add_argument("--eval-every", type=_number(int), default=S,
                   help="steps between held-out scores, the resolution of steps-to-solve (default 100)")
    p.set_defaults(run=run)


def _number(kind):
    def parse(text: str):
        try:
            return kind(text)
        except ValueError:
            # ArgumentTypeError: argparse shows this message (a ValueError's is replaced by its own)
            raise argparse.ArgumentTypeError(
                f"got {text!r}; allowed: {'an integer' if kind is int else 'a number'}") from None
    parse.__name__ = "integer" if kind is int else "number"
    return parse


DP_VARIANTS = {"reference": ("numpy",), "torch": ("eager",), "jax": ("jit",)}  # with --processes > 1


def selected_runs(backends, variants, device, processes: int = 1,
                  shard: str = "data") -> tuple[list[tuple[str, str]], list[str]]:
    """(backend, variant) pairs to run and a list of 'skipped: why' lines."""
    names = backends or list(registry.BACKENDS)
    for b in names:
        registry.check_variant(b, None)  # unknown backend -> ValueError
    table = DP_VARIANTS if processes > 1 and shard == "data" else registry.VARIANTS
    if variants:
        known = {v for vs in table.values() for v in vs}
        for v in variants:
            if v not in known or not any(v in table[b] for b in names):
                allowed = sorted({v for b in names for v in table[b]})
                raise invalid("variant", v, f"for backends {', '.join(names)}"
                              + (f" with --processes {processes}" if table is DP_VARIANTS else "")
                              + f": one of {', '.join(allowed)}")
    pairs, skipped = [], []
    for b in names:
        ok, why = registry.available(b, "cpu" if b == "reference" else device)  # the reference: CPU
        if not ok:
            if device != "cpu":
                raise invalid("device", device, f"cpu for backend {b} here ({why})")
            skipped.append(f"{b}: skipped ({why})")
            continue
        for v in table[b]:
            if b == "reference" or not variants or v in variants:
                ok, why = registry.available(b, device, v)
                if ok:
                    pairs.append((b, v))
                elif variants:
                    raise invalid("variant", v, f"on device {device}: another one ({why})")
                else:
                    skipped.append(f"{b}-{v}: skipped ({why})")
    if not pairs:
        raise invalid("backend", " ".join(names), "at least one backend that runs here: "
                      + "; ".join(skipped))
    return pairs, skipped


def run(args) -> int:
    model = models.check_name(args.model)
    given = set(vars(args))
    wrong = [d for d in (MODEL_ONLY if model == "seed" else SEED_ONLY) if d in given]
    if wrong:
        other = "sparse-parity" if model == "seed" else "seed"
        hint = "; sparse-parity's bits: --n-bits" if wrong[0] == "n" else ""
        raise invalid(wrong[0], getattr(args, wrong[0]), f"only with --model {other} (this run: --model {model}{hint})")
    if model != "seed":
        return run_model(args, models.get(model))
    for dest, default in SEED_ONLY.items():
        if dest not in given:
            setattr(args, dest, default)
    if args.steps is None:
        args.steps = SEED_STEPS
    return run_seed(args)


def run_seed(args) -> int:
    device = canonical_device(args.device)
    methods.check_method(args.method)
    if args.schedule is not None and args.method != "curriculum":
        raise invalid("schedule", args.schedule, "only with --method curriculum")
    if args.lr is None:
        args.lr = methods.DEFAULT_LR[args.method]
    recipe = Recipe(optimizer=args.optimizer, lr=args.lr, w0=tuple(args.w0) if len(args.w0) > 1 else args.w0[0],
                    steps=args.steps, dtype=args.dtype, momentum=args.momentum, nesterov=args.nesterov,
                    loss=args.loss)
    if args.data:
        data, problem = datamod.load(args.data), {"data": args.data}
    else:
        prob = Problem(n=args.n, x_max=args.x_max, seed=args.seed)
        data, problem = datamod.generate(prob), {"n": prob.n, "x_max": prob.x_max, "seed": prob.seed}
    problem["n"] = data.n
    if args.processes < 1 or args.processes > 64:
        raise invalid("processes", args.processes, "an integer from 1 to 64")
    if args.processes > 1 and args.method != "plain":
        raise invalid("processes", args.processes, f"1 with --method {args.method} (data parallel runs plain training)")
    if not args.timeout > 0:
        raise invalid("timeout", args.timeout, "a number of seconds > 0")
    if args.shard not in ("data", "ensemble"):
        raise invalid("shard", args.shard, "data or ensemble")
    if args.processes > 1 and args.shard == "ensemble" and len(args.w0) < args.processes:
        raise invalid("w0", f"{len(args.w0)} values", f"at least --processes {args.processes} values "
                      "(one ensemble member per process at least) with --shard ensemble")
    pairs, skipped = selected_runs(args.backend, args.variant, device, args.processes, args.shard)
    if args.method == "curriculum":  # a bad schedule fails before any training
        methods.resolve_schedule(args.schedule, data, recipe, None if args.data else args.x_max)
    if args.json:  # every output checked before anything is written or trained
        check_new(args.json, field="json")
    if args.save_data:
        check_new(args.save_data, field="save_data")
        if args.json and Path(args.json).resolve() == Path(args.save_data).resolve():
            raise invalid("save_data", args.save_data, "a path other than --json's")
        datamod.save(data, args.save_data)
    print(f"problem: {problem}  recipe: {recipe.optimizer} lr={recipe.lr:g} w0={_fmt(recipe.w0_array)} "
          f"steps={recipe.steps if args.method == 'plain' else 'per stage'} {recipe.dtype} "
          f"loss={recipe.loss} method={args.method} on {device}")
    runs, trajs = [], []
    for b, v in pairs:
        t0 = time.perf_counter()
        dist = None
        if args.processes > 1 and b != "reference":
            from impls import launch
            cfg = {"backend": b, "variant": v, "device": device, "recipe": recipe.to_dict(), "shard": args.shard,
                   **({"data": str(Path(args.data).resolve())} if args.data else
                      {"problem": {k: problem[k] for k in ("n", "x_max", "seed")}})}
            try:
                traj, dist = launch.run(cfg, args.processes, args.timeout)
            except launch.Failed as e:
                sys.stderr.write(f"paritybench train: error: {b}: {e}\n")
                return 1
        else:
            traj = methods.train(args.method, b, data, recipe, v, device if b != "reference" else "cpu",
                                 schedule=args.schedule, x_max=None if args.data else args.x_max, seed=args.seed)
        wall = time.perf_counter() - t0
        acc = metrics.accuracy(data, traj.w[-1], recipe.dtype)
        outcome = classify(traj, data)  # impls.outcome: solved / stuck / wandering / diverged
        hz = horizon(trajs[0], traj, part_tol(data, recipe.dtype)) if trajs else None  # vs the first run
        trajs.append(traj)
        runs.append({"backend": b, "variant": v, "device": traj.device, "dtype": traj.dtype,
                     "w": _rows(traj.w, recipe.ensemble), "loss": _rows(traj.loss, recipe.ensemble),
                     "accuracy": _scalar(acc, recipe.ensemble), "seconds": wall,
                     "outcome": outcome[0] if recipe.ensemble == 1 else outcome,
                     "horizon": None if hz is None else hz[0] if recipe.ensemble == 1 else hz,
                     "processes": dist["processes"] if dist else 1,
                     **({"engine": dist["engine"], "shard": args.shard, "ranks_identical": dist["ranks_identical"],
                         "comm_seconds": dist["comm_seconds"]} if dist else {})})
        tag = traj.label + (f" x{dist['processes']}" if dist else "")
        print(f"{tag:<20} {traj.device:<4} {traj.dtype}  w={_fmt(traj.w[-1])}  "
              f"loss={_fmt(traj.loss[-1])}  accuracy={_fmt(acc * 100, '.1f')}%  time={wall:.3f}s  "
              f"outcome={_outcome_text(outcome)}"
              + (f"  horizon vs {trajs[0].label}={_horizon_text(hz)}" if hz is not None else ""))
    for line in skipped:
        print(line)
    agreement = _agreement(trajs, data, recipe.dtype)
    if trajs:
        print(f"agreement horizon (first step |w_a - w_b| > {agreement['tol']:.3g} = max(h/10, 2 ulp), "
              f"h = pi/(4 max x); 'never' = within tol for all {trajs[0].steps} steps):")
        for pair in agreement["pairs"]:
            print(f"  {pair['a']} vs {pair['b']}: {_horizon_text(pair['horizon'])}")
    if args.json:
        doc = {"problem": problem, "recipe": recipe.to_dict(), "method": args.method, "runs": runs,
               "agreement": agreement}
        write_new(args.json, json.dumps(doc, indent=1), field="json")
        print(f"wrote {args.json}")
    return 0


def _agreement(trajs, data, dtype: str) -> dict:
    """The horizon (``impls.outcome.horizon``, tol ``part_tol``) of every pair of runs, labels
    'backend-variant' (plus '@device' for a device other than cpu)."""
    tol = part_tol(data, dtype)
    label = lambda t: t.label + ("" if t.device == "cpu" else f"@{t.device}")
    pairs = []
    for i, a in enumerate(trajs):
        for b in trajs[i + 1:]:
            if a.w.shape == b.w.shape:
                hz = horizon(a, b, tol)
                pairs.append({"a": label(a), "b": label(b), "horizon": hz[0] if len(hz) == 1 else hz})
    return {"tol": tol, "pairs": pairs}


def _outcome_text(outcome: list) -> str:
    """'solved' for one run; 'solved 3, stuck 1 (E=4)' for an ensemble."""
    if len(outcome) == 1:
        return outcome[0]
    counts = {o: outcome.count(o) for o in dict.fromkeys(outcome)}
    return ", ".join(f"{o} {c}" for o, c in counts.items()) + f" (E={len(outcome)})"


def _horizon_text(hz) -> str:
    """A step, 'never', or for an ensemble 'first 3, parted 5/8' (earliest and how many parted)."""
    if hz is None or isinstance(hz, int):
        return "never" if hz is None else str(hz)
    if len(hz) == 1:
        return _horizon_text(hz[0])
    parted = [h for h in hz if h is not None]
    return "never" if not parted else f"first {min(parted)}, parted {len(parted)}/{len(hz)}"


def _rows(a: np.ndarray, E: int) -> list:
    """(steps+1, E) -> a list of floats (E = 1 and scalar w0) or of lists of E floats."""
    return [float(r[0]) for r in a] if E == 1 else [[float(v) for v in r] for r in a]


def _scalar(a: np.ndarray, E: int):
    return float(a[0]) if E == 1 else [float(v) for v in a]


def _fmt(a, spec: str = ".8f") -> str:
    a = np.atleast_1d(a)
    if a.size == 1:
        return format(float(a[0]), spec)
    shown = ", ".join(format(float(v), spec) for v in a[:4])
    return f"[{shown}{', ...' if a.size > 4 else ''}] (E={a.size})"
