"""Run the command line: ``python -m publish``."""
import sys

from .cli import entry

# Guarded: a PDF worker process started by spawn imports the main module again.
if __name__ == "__main__":
    sys.exit(entry())
