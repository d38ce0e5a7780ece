"""Run the command line: ``python -m publish``."""
import gc
import sys

from .cli import main

# Guarded: a PDF worker process started by spawn imports the main module again.
if __name__ == "__main__":
    code = main()
    # The process ends here: Python would first look through every object it made for cycles to collect
    # (some 70 ms after a one-chapter build), which an ending process need not free.
    gc.freeze()
    sys.exit(code)
