"""The gate: two runs compared case by case. stats.py (the tests and intervals), rules.py (when a
case is slower, faster or same), machines.py (which runs are comparable), noise.py (noise profiles),
compare.py (two runs' verdicts and tables), ab.py (two environments interleaved), study.py."""
