"""`paritybench plot RUN.json --out DIR`: the suite's pictures as PNGs in a new or empty directory.

throughput.png, scaling.png and time-to-train.png (from RUN.json), seed.png, landscape.png and convergence.png (computed here, seconds).
Existing PNGs are never overwritten: DIR must not exist yet or be empty. Prints how long it took.
"""
from __future__ import annotations

import io
import os
import time
from pathlib import Path

from ..store import resultfile

PICTURES = ("throughput", "scaling", "time-to-train", "seed", "landscape", "convergence")
FROM_RUN = {"throughput": "throughput", "scaling": "scaling", "time-to-train": "time_to_train_figure"}  # name -> plot function


def add_parser(sub) -> None:
    p = sub.add_parser("plot", help="PNG pictures of a result JSON and of the model",
                       description=__doc__)
    p.add_argument("run_file", metavar="RUN.json", help="a result file (pytest-benchmark JSON)")
    p.add_argument("--out", required=True, metavar="DIR", help="a new or empty directory for the PNGs")
    p.add_argument("--only", nargs="+", choices=PICTURES, metavar="NAME",
                   help="draw only these: " + ", ".join(PICTURES))
    p.set_defaults(run=run)


def check_out(path: str) -> Path:
    """DIR must be new (its parent writable) or an empty writable directory; ValueError otherwise."""
    d = Path(path)
    allowed = "a new or empty writable directory (PNGs are never overwritten)"
    if d.exists():
        if not d.is_dir():
            raise ValueError(f"out: got {path!r} (a file, not a directory); allowed: {allowed}")
        if any(d.iterdir()):
            raise ValueError(f"out: got {path!r} (not empty); allowed: {allowed}")
        if not os.access(d, os.W_OK | os.X_OK):
            raise ValueError(f"out: got {path!r} (not writable); allowed: {allowed}")
        return d
    parent = d.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"out: got {path!r} (cannot be created: {str(parent)!r} is not a writable "
                         f"directory); allowed: {allowed}")
    return d


def save_new(fig, path: Path, source: str | None = None) -> None:
    """Render to memory, then create ``path`` exclusively (never replaces a file). ``source``, the
    result file a picture was drawn from, goes into the PNG's 'Source' text chunk (the docs' test
    checks that a committed picture comes from the committed baseline)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Source": source} if source else None)
    try:
        with open(path, "xb") as f:
            f.write(buf.getvalue())
    except FileExistsError:
        raise ValueError(f"out: got {str(path)!r} (already exists); allowed: a new file") from None


def run(args) -> int:
    t0 = time.perf_counter()
    run_ = resultfile.load(args.run_file, "run")
    out = check_out(args.out)
    # The computed pictures train small problems (n = 1000): one torch thread is fastest and, on a
    # busy machine, 30x faster than two spinning threads (measured: 0.15 s against 4.8 s per run).
    # torch reads this when first imported; these runs are about outcomes, not speed. The variable
    # is restored afterwards so that a caller's later subprocesses do not inherit it.
    prior = os.environ.get("OMP_NUM_THREADS")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        return _draw(args, run_, out, t0)
    finally:
        if prior is None:
            os.environ.pop("OMP_NUM_THREADS", None)


def _draw(args, run_, out: Path, t0: float) -> int:
    from ..render import plot  # matplotlib is imported only once the input is known to be good

    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(f"out: got {args.out!r} (cannot create it: {e.strerror}); allowed: "
                         "a new or empty writable directory") from None
    wanted = args.only or PICTURES
    if run_.partial:
        print(run_.partial + " (throughput.png shows the cases measured)")
    for name in wanted:
        t = time.perf_counter()
        if name in FROM_RUN:
            fig = getattr(plot, FROM_RUN[name])(run_)
            if fig is not None and run_.partial:
                fig.text(0.99, 0.005, "PARTIAL RUN: interrupted, not every case was measured", color="crimson",
                         fontsize=9, ha="right", va="bottom")
            if fig is None:
                print(f"{name}.png: skipped ({args.run_file} has no " + (
                    "startup case (bench/test_startup.py) with a throughput case beside it)" if name == "time-to-train"
                    else "throughput case with E = 1" + (" in float32)" if name == "scaling" else ")")))
                continue
        elif name == "seed":
            fig = plot.seed()
        elif name == "landscape":
            fig = plot.landscape()
        else:
            fig = plot.convergence(plot.convergence_grid())
        path = out / f"{name}.png"
        save_new(fig, path, Path(args.run_file).name if name in FROM_RUN else None)
        plot.plt.close(fig)
        print(f"wrote {path} ({time.perf_counter() - t:.1f} s)")
    print(f"plot: {len(wanted)} pictures in {time.perf_counter() - t0:.1f} s")
    return 0
