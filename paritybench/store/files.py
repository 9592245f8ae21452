"""Nothing is lost: result files are created new, atomically, and never overwritten."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def check_new(path: str | Path, field: str = "json") -> Path:
    """ValueError naming ``field`` unless ``path`` is new and its directory exists and is writable."""
    p = Path(path)
    if p.exists():
        raise ValueError(f"{field}: got {str(p)!r}; allowed: a path that does not exist yet "
                         "(result files are never overwritten)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{field}: got {str(p)!r}; allowed: a path in an existing directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{field}: got {str(p)!r}; allowed: a path in a writable directory")
    return p


def write_new(path: str | Path, text: str, field: str = "json") -> Path:
    """Write ``text`` to ``path``, which must not exist yet; ValueError naming ``field`` otherwise.

    The text goes to a temporary file in the same directory first and is then linked into place,
    so an interrupted run leaves either nothing or the whole file, and never replaces a file.
    """
    p = check_new(path, field)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".tmp")
    except OSError as e:
        raise ValueError(f"{field}: got {str(p)!r}; allowed: a writable directory ({e.strerror})") from None
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 is for the temporary name only
        try:
            os.link(tmp, p)  # fails if p appeared meanwhile: never replaces
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: exclusive create, then write
            with open(p, "x") as f:
                f.write(text)
    except FileExistsError:
        raise ValueError(f"{field}: got {str(p)!r}; allowed: a path that does not exist yet "
                         "(result files are never overwritten)") from None
    finally:
        os.unlink(tmp)
    return p


def newest_json(directory: str | Path, pattern: str) -> tuple[Path, dict] | None:
    """(path, parsed JSON) of the last file matching ``pattern`` in ``directory`` by name (names
    end in a time stamp), or None where there is none: what a study's report block renders."""
    import json
    files = sorted(Path(directory).glob(pattern))
    return (files[-1], json.loads(files[-1].read_text())) if files else None


def newest_study(directory: str | Path, pattern: str, module: str) -> tuple[Path, dict] | str:
    """``newest_json``, or where there is none the one line a report block shows instead, naming
    the study that makes one (``python -m module``)."""
    found = newest_json(directory, pattern)
    return found if found is not None else f"no committed results/{pattern} (python -m {module})\n"


def study_block(pattern: str, module: str):
    """A docs block rendered from the checkout's newest results/``pattern`` (``newest_study``): turns
    ``render(path, doc) -> str`` into ``block(run) -> str``, which gives the line naming the study
    where none is committed."""
    import functools
    where = Path(__file__).resolve().parents[2] / "results"

    def wrap(render):
        @functools.wraps(render)
        def block(run=None) -> str:
            found = newest_study(where, pattern, module)
            return found if isinstance(found, str) else render(*found)
        return block
    return wrap


def new_path(directory: str | Path, stem: str, suffix: str = ".json") -> Path:
    """A path in ``directory`` that does not exist yet: stem.json, stem-2.json, ..."""
    d = Path(directory)
    p, i = d / f"{stem}{suffix}", 1
    while p.exists():
        i += 1
        p = d / f"{stem}-{i}{suffix}"
    return p
