"""The docs' generated blocks (``<!-- report:NAME -->``), rendered from the committed baseline:
docs.py (which docs, fill, check, the baseline) and one module per doc's blocks (seed.py, ab.py,
gap.py, gpu.py, scale.py, time_to_train.py, sparse_parity.py)."""
