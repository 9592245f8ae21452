"""What a run looks like: one_run.py (``paritybench compare RUN``'s tables), plot.py
(``paritybench plot``), page.py (the HTML page) and figures.py (its figures), sparse_parity.py
(docs/img/sparse-parity.png). matplotlib is imported only by the plotting modules."""
