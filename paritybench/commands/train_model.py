"""`paritybench train --model NAME`: a model under impls/contract.py (sparse parity, or a user's
model file), every chosen backend x variant after the numpy float64 reference, one line a run
(train.py parses the options and sends such runs here).
"""
from __future__ import annotations

import json

import numpy as np

from impls import models
from impls.models import model_available
from impls.spec import canonical_device, invalid

from ..store.files import check_new, write_new

MODEL_ONLY = ("n_bits", "k", "width", "batch", "weight_decay", "eval_every", "param")  # --model sparse-parity / a file
MODEL_STEPS = 20_000  # sparse parity's budget: n = 30, k = 3 solves in ~1,100-1,400 steps (seeds 0, 1)


def model_runs(model, backends, variants, device: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(backend, variant) pairs of ``model`` to run and 'skipped: why' lines; names are checked
    first (ValueError), availability after (it imports the frameworks)."""
    names = backends or list(model.backends)
    for b in names:
        models.check_variant(model, b, None)  # unknown backend -> ValueError
    if variants:
        allowed = sorted({v for b in names for v in model.variants[b]})
        for v in variants:
            if v not in allowed:
                raise invalid("variant", v, f"for backends {', '.join(names)} of model {model.name}: "
                              f"one of {', '.join(allowed)}")
    pairs, skipped = [], []
    for b in names:
        ok, why = model_available(model, b, "cpu" if b == "reference" else device)
        if not ok:
            if device != "cpu" and b != "reference":
                raise invalid("device", device, f"cpu for backend {b} here ({why})")
            skipped.append(f"{b}: skipped ({why})")
            continue
        pairs += [(b, v) for v in model.variants[b] if b == "reference" or not variants or v in variants]
    if not any(b != "reference" for b, _ in pairs) and backends and "reference" not in backends:
        raise invalid("backend", " ".join(names), "at least one backend that runs here: " + "; ".join(skipped))
    return pairs, skipped


def run_model(args, model) -> int:
    """Train ``model`` with every chosen backend x variant; the numpy float64 reference first
    (snapshots at every eval block: the baseline of each run's horizon). One line a run."""
    from dataclasses import replace

    from impls.contract import Optim, Train, _int
    from impls.models import outcome as mo
    from impls.models import run as mrun

    device = canonical_device(args.device)
    given = vars(args)
    from impls.models import user as usermod
    user = usermod.info(model) if model.name in usermod._EXTRA else None  # a user's file (docs/models.md)
    chosen = {d: given[d] for d in model.parameters if d in given}
    if user:
        chosen.update(usermod_params(model, given))
    elif "param" in given:
        raise invalid("param", given["param"], "only with --model path/to/model.py:Name (sparse-parity: its own options)")
    cfg = model.config(**chosen)
    base = model.optim
    optim = Optim(args.optimizer, lr=base.lr if args.lr is None else args.lr,
                  weight_decay=given.get("weight_decay", base.weight_decay),
                  momentum=args.momentum, nesterov=args.nesterov)
    if user:  # the file's recipe, each field replaced only where the option was given
        optim = replace(base, lr=optim.lr, weight_decay=optim.weight_decay,
                        **({"optimizer": args.optimizer} if args.optimizer != "sgd" else {}),
                        **({"momentum": args.momentum} if args.momentum != 0.9 else {}),
                        **({"nesterov": True} if args.nesterov else {}))
    budget = (user["steps"] if user else MODEL_STEPS) if args.steps is None else args.steps
    train = Train(optim, seed=args.seed, steps=budget, dtype=args.dtype)
    eval_every = _int("eval_every", given.get("eval_every", model.eval_every), 1, 10**8)
    if args.json:  # every output checked before anything is imported or trained
        check_new(args.json, field="json")
    pairs, skipped = model_runs(model, args.backend, args.variant, device)
    cfg_text = " ".join(f"{k}={v}" for k, v in mrun._config_dict(cfg).items())
    print(f"model: {model.name} {cfg_text} seed={train.seed}  recipe: {optim.optimizer} lr={optim.lr:g} "
          f"weight_decay={optim.weight_decay:g} budget={train.steps} steps {train.dtype}, scored every "
          f"{eval_every} steps, stop at the first solved score, on {device}", flush=True)
    ref_label, ref_variant = "reference-numpy float64", model.variants["reference"][0]
    if user:  # the same-model check first: one line, exit 2 on a mismatch, before anything trains
        from impls.models.user import check, reference_label
        ref_label = reference_label(model)
        same = check.same_model(model, cfg, train, device)
        print(same.line(), flush=True)
    ref = mrun.train(model, "reference", cfg, replace(train, dtype="float64"), ref_variant, "cpu",
                     eval_every, record_every=eval_every)
    todo = [("reference", ref_variant, "cpu", train.dtype)] if any(b == "reference" for b, _ in pairs) \
        and train.dtype != "float64" and ref_variant == "numpy" else []
    todo += [(b, v, device, train.dtype) for b, v in pairs if b != "reference"]
    runs = [_model_line(ref, None, None, model)]
    for b, v, dev, dtype in todo:
        t = mrun.train(model, b, cfg, replace(train, dtype=dtype), v, dev, eval_every, record_every=eval_every)
        hz = mo.horizon(t, ref, mo.PART_TOL)
        runs.append(_model_line(t, hz, mo.common_steps(t, ref), model, ref_label))
        t.snapshots.clear()  # the horizon is taken: keep only the reference's in memory
    for line in skipped:
        print(line)
    print(f"horizon: the first scored step at which ||theta - theta_ref|| / ||theta_ref|| > {mo.PART_TOL:g}, "
          f"theta every parameter of the run, theta_ref the {ref_label}'s (impls/models/outcome.py); "
          "'never (to T)': within it at every step both runs reached, up to T")
    if args.json:
        doc = {"model": model.name, "config": mrun._config_dict(cfg), "train": train.to_dict(),
               "eval_every": eval_every, "part_tol": mo.PART_TOL, "baseline": ref_label, "runs": runs}
        if user:
            doc.update(source=user["source"], same_model={"tol": same.tol, "tol_reason": same.tol_reason,
                                                          "self_gap": same.self_gap, "gaps": same.gaps})
        write_new(args.json, json.dumps(doc, indent=1), field="json")
        print(f"wrote {args.json}")
    return 0


def usermod_params(model, given: dict) -> dict:
    """A user's model: ``--param NAME=VALUE`` typed by the default; the sparse-parity options that
    are not its parameters refused (one line)."""
    for d in MODEL_ONLY:
        if d in given and d not in model.parameters and d not in ("weight_decay", "eval_every", "param"):
            raise invalid(d, given[d], f"a parameter of {model.name}: " + (", ".join(model.parameters) or "none")
                          + " (others: --param NAME=VALUE)")
    out = {}
    for item in given.get("param") or []:
        name, sep, text = item.partition("=")
        if not sep or name not in model.parameters:
            raise invalid("param", item, f"NAME=VALUE, NAME one of {model.name}'s parameters: "
                          + (", ".join(model.parameters) or "none"))
        default = model.parameters[name]
        try:
            out[name] = (text.lower() in ("1", "true", "yes") if isinstance(default, bool)
                         else type(default)(text))
        except ValueError:
            raise invalid(name, text, f"a {type(default).__name__} (default {default!r})") from None
    return out


def _model_line(t, hz, hz_to, model, ref_label: str = "") -> dict:
    """Print one run's line; its JSON entry."""
    from impls.models import outcome as mo

    outcome, sts = mo.classify(t, model.solved)
    last = max(t.scores) if t.scores else None
    acc = t.scores[last] if last is not None else float("nan")
    block = t.loss[-t.meta["eval_every"]:]
    loss = float(np.mean(block)) if block.size else float("nan")
    hz_text = "" if ref_label == "" else \
        f"  horizon vs {ref_label}={'never (to ' + str(hz_to) + ')' if hz is None else hz}"
    print(f"{t.label:<20} {t.device:<4} {t.dtype}  outcome={outcome:<8}  steps-to-solve="
          f"{'-' if sts is None else sts:<6}  accuracy={acc * 100:.1f}%  loss={loss:.4f}  "
          f"time={t.seconds:.3f}s{hz_text}", flush=True)
    return {"backend": t.backend, "variant": t.variant, "device": t.device, "dtype": t.dtype,
            "outcome": outcome, "steps_to_solve": sts, "accuracy": acc, "final_loss_mean": loss,
            "stopped": t.meta["stopped"], "steps_run": t.meta["steps_run"], "seconds": t.seconds,
            "prepare_seconds": t.meta["prepare_seconds"], "eval_seconds": t.meta["eval_seconds"],
            "horizon": hz, "horizon_checked_to": hz_to,
            "scores": [[int(k), float(v)] for k, v in sorted(t.scores.items())],
            "loss": [float(v) for v in t.loss]}
