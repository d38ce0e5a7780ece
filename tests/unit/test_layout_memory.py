"""What the survey of a part's margin numbers (pdf/layout.py) leaves behind: nothing the collector must find."""
from __future__ import annotations

import gc

from weasyprint import HTML

from publish.book.markup import PAGE_NUMBER
from publish.pdf import layout


def test_surveying_the_margin_numbers_leaves_no_cycle_holding_the_pages():
    # A cycle (a function nested in the survey that called itself) kept every line it found, and the part's
    # laid-out pages through them, until the collector's next full pass: memory a cold build held for nothing.
    document = HTML(string=f'<p>One <span><span class="{PAGE_NUMBER}" style="position: absolute">588</span></span>'
                           ' two</p><p>three</p>').render()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        lines, numbers = layout._survey(document)
        assert len(lines) == 2 and [n.label for n in numbers] == ["588"]
        del lines, numbers
        gc.collect()
        left = [o for o in gc.garbage if type(o).__module__ == layout.__name__]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert not left, "only what reference counting frees on its own"
