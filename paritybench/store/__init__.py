"""On disk: resultfile.py reads a bench run's JSON into cases; files.py writes new files (never
over an existing one) and finds the newest study."""
