"""The book as both writers read it: its settings, chapters, notes and original pages, and the markup they share."""
