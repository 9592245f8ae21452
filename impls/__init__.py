"""paritybench's contract (``spec``), data, and the three backends behind a lazy registry."""
from .data import generate, generate_with_validation, integers, load, save
from .registry import BACKENDS, DEVICE_ONLY, TIER, VARIANTS, available, check_variant, get, train
from .spec import DTYPES, LOSSES, OPTIMIZERS, Data, Problem, Recipe, Trajectory

__all__ = [
    "BACKENDS", "DEVICE_ONLY", "TIER", "VARIANTS", "DTYPES", "LOSSES", "OPTIMIZERS", "Data", "Problem", "Recipe",
    "Trajectory", "available", "check_variant", "generate", "generate_with_validation", "get",
    "integers", "load", "save", "train",
]
