"""The pytest plugin of ``pytest bench`` (bench/conftest.py's hooks delegate here), one job a module:
settings, selection, progress, output and interrupts, cache repairs, the replica pass, the JSON's
fields, the terminal summary; the run's shared state in ``state``."""
