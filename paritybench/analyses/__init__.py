"""What one run says: per_step.py (a case's seconds per step), answer.py (the headline),
time_to_train.py (T(S) = startup + S x step), explain.py (a step's ops), model_results.py and
sparse_parity.py (the models beside the seed)."""
