"""One module per ``paritybench`` subcommand (cli.py's COMMANDS): each ``add_parser(sub)`` and
``run(args) -> int``; the work itself lives in the rooms below."""
