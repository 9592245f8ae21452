"""One seeded numpy generator: the same x, y for every backend.

The seed's recipe, exactly: ``x = randint(0, x_max, n)`` from numpy's legacy generator
(``np.random.RandomState(seed)``, what the seed's ``np.random.randint`` uses), ``y = x % 2``.
A validation set is the generator's next draw, as in the seed.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .spec import Data, Problem, invalid


def generate(problem: Problem) -> Data:
    """The training set of ``problem``: x int64 (n,), y float64 (n,)."""
    return _draw(problem)[0]


def generate_with_validation(problem: Problem) -> tuple[Data, Data]:
    """(train, validation), drawn one after the other from the same generator, as the seed does."""
    return _draw(problem, validation=True)


def _draw(problem: Problem, validation: bool = False) -> tuple[Data, ...]:
    rng = np.random.RandomState(problem.seed)
    sets = []
    for _ in range(2 if validation else 1):
        x = rng.randint(0, problem.x_max, problem.n).astype(np.int64)
        sets.append(Data(x, (x % 2).astype(np.float64)))
    return tuple(sets)


def integers(x_max: int) -> Data:
    """Every integer in [0, x_max) once: the asker's fix is ``integers(6)``."""
    x = np.arange(x_max, dtype=np.int64)
    return Data(x, (x % 2).astype(np.float64))


def load(path: str | Path) -> Data:
    """Arrays ``x`` and ``y`` from an .npz file; every defect is a one-line ``ValueError``."""
    p = Path(path)
    if not p.exists():
        raise invalid("data", str(path), "an existing .npz file with arrays x and y")
    if p.is_dir() or p.suffix != ".npz":
        raise invalid("data", str(path), "a .npz file (numpy.savez) with arrays x and y")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [k for k in ("x", "y") if k not in z.files]
            if missing:
                raise invalid("data", f"{path} lacks {', '.join(missing)}", "a .npz file with arrays x and y")
            x, y = z["x"], z["y"]
    except ValueError as e:
        if str(e).startswith("data"):
            raise
        raise invalid("data", str(path), "a readable .npz file with arrays x and y") from None
    except OSError:
        raise invalid("data", str(path), "a readable .npz file with arrays x and y") from None
    if np.ndim(x) != 1 or np.ndim(y) != 1 or len(x) != len(y):
        raise invalid("data", f"{path}: x shape {np.shape(x)}, y shape {np.shape(y)}",
                      "1-D arrays x and y of the same length")
    return Data(x, y)


def save(data: Data, path: str | Path) -> Path:
    """Write ``data`` to a new .npz file; never overwrites an existing one."""
    p = Path(path)
    if p.suffix != ".npz":
        raise invalid("save_data", str(path), "a file name ending in .npz")
    try:
        with open(p, "xb") as f:  # exclusive: never replaces a file
            np.savez(f, x=data.x, y=data.y)
    except FileExistsError:
        raise invalid("save_data", str(path), "a path that does not exist yet (files are never overwritten)") from None
    except OSError as e:
        raise invalid("save_data", str(path), f"a new file in a writable directory ({e.strerror})") from None
    return p
