"""One-off studies and probes: each runs as ``python -m bench.studies.<name>`` (bench/README.md)."""
