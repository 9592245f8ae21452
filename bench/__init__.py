"""The bench (``pytest bench --benchmark-only``): test_*.py hold the cases; conftest.py's hooks hand
off to harness/ (settings, output, progress, replicas, summary); matrix.py says which cases a profile
runs, timing.py how a case is timed, summary.py what the run prints; studies/ holds one-off studies."""
