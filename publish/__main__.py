"""Run the command line: ``python -m publish``."""
import sys

from .cli import main

sys.exit(main())
