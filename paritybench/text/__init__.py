"""Text out: tables.py, the tables every command prints (text, markdown, CSV, JSON) and the number
formats (us, power10, pct, ...)."""
