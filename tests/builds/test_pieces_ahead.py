"""Pieces of a long chapter drawn ahead, while it is still laid out, make the book the same bytes."""
from __future__ import annotations

from publish.build import build
from publish.pdf import pieces

from synthetic import generate


def test_pieces_drawn_ahead_while_the_chapter_is_laid_out_make_the_same_book(tmp_path, monkeypatch):
    folder = generate(tmp_path / "src", 50, chapter_pages=50)
    monkeypatch.setattr(pieces, "PIECE_EVERY", 1)  # cut at every clean page start: many pieces to draw ahead
    plain = build(folder, tmp_path / "plain", ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    # As a worker's build does, but in turn: each piece told as the chapter is laid out is drawn alone into the
    # cache (Chapters.ahead, in an idle worker) before the chapter is drawn, which takes it from there.
    told, written, drawn = [], [], []
    init, draw, write = pieces.Chapters.__init__, pieces.Chapters.draw, pieces._write

    def telling(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.tell = lambda *piece: told.append(piece)

    def drawn_ahead(self, run, first_folio, lower_roman):
        for start, stop, right, carried, page, pages in told:
            self.ahead(pieces.whole(run.html), start, stop, right, carried, pages, first_folio + page, lower_roman)
        written.clear()
        laid = draw(self, run, first_folio, lower_roman)
        drawn.append((len(told), len(written), len(laid.pdfs)))
        told.clear()
        return laid

    monkeypatch.setattr(pieces.Chapters, "__init__", telling)
    monkeypatch.setattr(pieces.Chapters, "draw", drawn_ahead)
    monkeypatch.setattr(pieces, "_write", lambda document, pages: written.append(pages) or write(document, pages))
    ahead = build(folder, tmp_path / "ahead", ("pdf",), jobs=1).outputs["pdf"].read_bytes()
    assert ahead == plain
    # The chapter was cut in pieces, all told before its end, and only its last drawn from its own layout.
    [(told_count, written_count, piece_count)] = drawn
    assert told_count >= 3 and told_count == piece_count - 1 and written_count == 1, drawn
