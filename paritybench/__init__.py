"""paritybench: PyTorch against JAX, the tools around the bench (``paritybench <command>``).

Rooms, from the top down (each imports only those below it; bench/ above, impls/ beneath):
  cli.py     the command line's dispatcher (``paritybench``, ``python -m paritybench``)
  commands/  one module per subcommand: its options and its run
  report/    the docs' generated blocks, rendered from the committed baseline
  render/    what a run looks like: one run's tables, plots, the HTML page, its figures
  analyses/  what a run says: the answer, time to train, the ops behind a step, the models'
  gate/      two runs compared: statistics, rules, noise profiles, the A/B run
  text/, store/  at the ground: tables as text, CSV, JSON; result files read, new files written
"""
