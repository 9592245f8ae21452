"""The JAX-on-CPU gap, measured apart from the bench (docs/gap.md): rerunnable, a few minutes.

    .venv/bin/python -m bench.studies.gap_study [--out results/gap-study-<time>.json] [--rounds 15]

One thread (the bench's setting), glibc malloc steady, float32 n = 1e6 unless named. Parts:
  sin        ns per element of one jitted/compiled sin over 1e6 float32 arguments in three
             ranges (below 1; the seed's band [0, 1500); fl(1.5 x) for the seed's x), per
             framework: jnp.sin, np.sin, torch.sin (eager) - the figures of the bug report
  xla        the JAX step (scan, sgd) and the sin + cos pass under each XLA option apart and
             together, with jnp.sin and with the tuned polynomials: what each option is worth
  torch      the compiled step under each torch.compile mode on the CPU
  accuracy   max ulp error of sin and cos against a wider evaluation (impls/sincos.py ``ulps``)
             over ``sincos.arguments``: each framework's own functions and each polynomial
Timing: every configuration is built and warmed first, then timed in round robin (``--rounds``
rounds of one call each, K calls sized to ~20 ms), so a slow minute on the shared machine hits all
alike; the median per configuration is kept. The JSON (a new file) is rendered by
``paritybench report`` (block ``gap-study``).
"""
from __future__ import annotations

import sys
import time
from statistics import median

from bench import frameworks

frameworks.pin_threads(1)  # before jax is imported
frameworks.set_malloc("steady")

import numpy as np  # noqa: E402

from bench import matrix, runners  # noqa: E402
from bench.studies import study  # noqa: E402

N = 1_000_000
YNN_OFF = ("xla_cpu_experimental_ynn_fusion_type", "")
VW512 = ("xla_cpu_prefer_vector_width", 512)
FAST_MATH = ("xla_cpu_enable_fast_math", True)
XLA_CONFIGS = {"none": (), "ynn off": (YNN_OFF,), "512-bit vectors": (VW512,),
               "ynn off + 512-bit (the tuned tier's)": (YNN_OFF, VW512),
               "fast math (changes results; not used)": (FAST_MATH,)}
TORCH_MODES = ("default", "max-autotune-no-cudagraphs")


def _round_robin(fns: dict, rounds: int, target: float = 0.02) -> dict:
    """{name: median seconds of one fn(1)} over ``rounds`` rounds, every fn once per round, after
    a warm-up; each call repeated K times so that it lasts ~``target`` s."""
    reps = {}
    for name, fn in fns.items():
        fn()  # compile
        t0 = time.perf_counter()
        fn()
        reps[name] = max(1, int(target / max(time.perf_counter() - t0, 1e-6)))
    got = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            got[name].append((time.perf_counter() - t0) / reps[name])
    return {name: median(v) for name, v in got.items()}


def sin_part(rounds: int) -> list[dict]:
    import jax
    import jax.numpy as jnp
    import torch

    rng = np.random.default_rng(0)
    seed_x = runners.data_of(N).x.astype(np.float32)
    args = {"[0, 1)": rng.uniform(0, 1, N).astype(np.float32),
            "[0, 1500)": rng.uniform(0, 1500, N).astype(np.float32),
            "1.5 x, the seed's x": np.float32(1.5) * seed_x}
    jsin = jax.jit(jnp.sin)
    fns = {}
    for label, a in args.items():
        ja, ta = jax.device_put(a), torch.as_tensor(a)
        fns[("jnp.sin (jit)", label)] = lambda ja=ja: jsin(ja).block_until_ready()
        fns[("np.sin", label)] = lambda a=a: np.sin(a)
        fns[("torch.sin (eager)", label)] = lambda ta=ta: torch.sin(ta)
    t = _round_robin(fns, rounds)
    return [{"function": f, "arguments": label, "ns_per_element": s / N * 1e9} for (f, label), s in t.items()]


def xla_part(rounds: int) -> list[dict]:
    import jax

    from impls import jax_backend as jb
    from impls.spec import Recipe

    data = runners.data_of(N)
    fns, rows = {}, {}
    for cname, opts in XLA_CONFIGS.items():
        for tuned in (False, True):
            r = jb.prepare(data, Recipe(optimizer="sgd", lr=matrix.LR, steps=1), "scan-tuned" if tuned else "scan")
            r.step, r.scan = jb.compiled_steps(jb.make_optimizer(r.recipe), tuned, "cpu", opts)
            fns[(cname, tuned, "step")] = lambda r=r: r.advance(8)
            with jb.precision("float32", True):
                x = jax.device_put(data.x.astype(np.float32))
                sin, cos = jb._trig("tuned" if tuned else "default")
                one = jax.jit(lambda w, x=x, sin=sin, cos=cos: (sin(w * x) + cos(w * x)).sum(),
                              compiler_options=dict(opts) or None)
            fns[(cname, tuned, "sincos pass")] = \
                lambda one=one: _x64(lambda: one(np.float32(1.5)).block_until_ready())
    t = _round_robin(fns, rounds)
    for (cname, tuned, what), s in t.items():
        per = s / 8 if what == "step" else s
        rows[(cname, tuned, what)] = {"options": cname, "sin_cos": "polynomials" if tuned else "jnp.sin, jnp.cos",
                                      "what": what, "seconds": per, "ns_per_element": per / N * 1e9}
    return list(rows.values())


def _x64(fn):
    import jax
    with jax.enable_x64(True):
        return fn()


def torch_part(rounds: int) -> list[dict]:
    import torch

    from impls import torch_backend as tb
    from impls.spec import Recipe

    data = runners.data_of(N)
    fns = {}
    for mode in TORCH_MODES:
        torch._dynamo.reset()
        r = tb.prepare(data, Recipe(optimizer="sgd", lr=matrix.LR, steps=1), "compiled")
        graph = torch.compile(tb.one_graph_step(r.criterion, r.update), dynamic=False, mode=mode)
        r.train_step = lambda r=r, graph=graph: graph(r.w, r.x, r.y)
        fns[mode] = lambda r=r: r.advance(8)
    t = _round_robin(fns, rounds)
    return [{"mode": m, "seconds_per_step": s / 8, "ns_per_element": s / 8 / N * 1e9} for m, s in t.items()]


def accuracy_part() -> list[dict]:
    import jax
    import jax.numpy as jnp
    import torch

    from impls import jax_backend as jb
    from impls import sincos
    from impls import torch_backend as tb

    rows = []
    for dtype in ("float32", "float64"):
        t = sincos.arguments(dtype)

        def jax_fn(f, tuned):
            def run(a):
                with jb.precision(dtype, True):
                    opts = jb.tuned_options("cpu") if tuned else None
                    s, c = jax.jit(f, compiler_options=opts or None)(a)
                    return np.asarray(s), np.asarray(c)
            return run

        tpoly = torch.compile(tb.poly_sincos, dynamic=False)
        impl = {"numpy polynomials (impls/sincos.py)": sincos.sincos,
                "jax polynomials (scan-tuned)": jax_fn(jb.poly_sincos, True),
                "torch polynomials (compiled-tuned)": lambda a: tuple(v.numpy() for v in tpoly(torch.as_tensor(a))),
                "jnp.sin, jnp.cos (jit)": jax_fn(lambda a: (jnp.sin(a), jnp.cos(a)), False),
                "torch.sin, torch.cos (eager)": lambda a: (torch.sin(torch.as_tensor(a)).numpy(),
                                                           torch.cos(torch.as_tensor(a)).numpy()),
                "np.sin, np.cos": lambda a: (np.sin(a), np.cos(a))}
        for name, fn in impl.items():
            es, ec = sincos.max_ulp_error(fn, t)
            rows.append({"dtype": dtype, "implementation": name, "arguments": int(t.size),
                         "max_ulp_sin": es, "max_ulp_cos": ec})
            print(rows[-1], flush=True)
    return rows


def main(argv=None) -> int:
    ap = study.parser(__doc__, "gap-study")
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args(argv)
    out = study.out_path(a.out, "gap-study")
    t0 = time.time()
    doc = {"kind": "gap-study", "datetime": time.strftime("%Y-%m-%dT%H:%M:%S"), "n": N, "threads": 1,
           "rounds": a.rounds}
    for name, part in (("sin", lambda: sin_part(a.rounds)), ("xla", lambda: xla_part(a.rounds)),
                       ("torch", lambda: torch_part(a.rounds)), ("accuracy", accuracy_part)):
        doc[name] = part()
        print(f"{name}: done at {time.time() - t0:.0f} s", flush=True)
    from impls import numenv
    doc["versions"] = frameworks.versions()
    doc["numeric"] = numenv.describe(["torch", "jax"])
    doc["wall_seconds"] = time.time() - t0
    study.save(out, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
