"""The reader: a manuscript's Markdown, checked and converted by pandoc into the book (book/)."""
