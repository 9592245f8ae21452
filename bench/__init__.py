"""Benchmarks of paritybench (pytest-benchmark): throughput matrix and floors, training runs."""
