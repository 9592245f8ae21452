"""What the study scripts share (bench/studies/gap_study.py, scale_study.py, malloc_faults.py): the
``--out`` option (default results/<kind>-<time>.json, a new file) and writing the JSON new."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parser(doc: str, kind: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the module's docstring and ``--out``."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None, help=f"a new JSON file (default results/{kind}-<time>.json)")
    return ap


def positive_ints(text: str) -> list[int]:
    """argparse type of a comma-separated list of positive integers ('1e6' allowed): a bad one is
    argparse's one-line error and exit status 2."""
    try:
        values = [int(float(v)) for v in str(text).split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: positive integers, comma-separated")
    return values


def positive_int(text: str) -> int:
    """argparse type of one positive integer."""
    try:
        values = positive_ints(text)
    except argparse.ArgumentTypeError:
        values = []
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; allowed: one positive integer")
    return values[0]


def out_path(out: str | None, kind: str) -> Path:
    """``--out`` or a new results/<kind>-<YYYYmmddTHHMMSS>.json, checked before any measuring: a
    path that exists (or cannot be written) ends the script with one line and exit status 2."""
    from paritybench.store.files import check_new, new_path
    p = Path(out) if out else new_path(ROOT / "results", f"{kind}-{time.strftime('%Y%m%dT%H%M%S')}")
    try:
        return check_new(p, "out")
    except ValueError as e:
        print(f"{kind}: error: {e}", file=sys.stderr)
        raise SystemExit(2) from None


def save(out: Path, doc: dict) -> None:
    """Write ``doc`` to ``out``, new (never over a file), and say where."""
    from paritybench.store.files import write_new
    write_new(out, json.dumps(doc, indent=1), "out")
    print(f"wrote {out}")
