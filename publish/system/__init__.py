"""What the tool needs of the machine: files written whole, the cache, interrupts and the progress display."""
