"""`python -m paritybench ...`: the same command line as the `paritybench` script."""
import sys

from .cli import main

sys.exit(main())
