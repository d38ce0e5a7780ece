"""Generate FRUS-like manuscripts of any length, the same text for the same seed (for benchmarks)."""
from __future__ import annotations

import random
from pathlib import Path

WORDS = ("the Secretary said that President Soviet Union government United States missiles Berlin treaty "
         "question discussion conversation Ambassador Embassy Department policy negotiations proposal agreement "
         "situation Chairman would could should not also which there their this that with from have been were "
         "was had his it is be of to and in on as at by for an a or if but because however nevertheless "
         "memorandum telegram cable despatch instructions position informally position military economic "
         "political Cuba Laos Vietnam Moscow Washington London Paris Bonn Geneva conference meeting talks "
         "approach reply problem interest matter view point time year month week day November December").split()
WORDS_PER_PAGE = 420  # a FRUS page of documents and notes


def _sentence(rng: random.Random, length: int) -> str:
    words = [rng.choice(WORDS) for _ in range(length)]
    words[0] = words[0].capitalize()
    return " ".join(words) + "."


def _paragraph(rng: random.Random, words: int) -> list[str]:
    out, left = [], words
    while left > 0:
        n = min(left, rng.randint(8, 30))
        out.extend(_sentence(rng, n).split())
        left -= n
    return out


def generate(folder: Path, pages: int, seed: int = 1962, chapter_pages: int = 40) -> Path:
    """Write a manuscript of about `pages` original pages into folder."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    page, number, written = 1, 1, 0
    files = []
    chapter_count = max(1, round(pages / chapter_pages))
    for c in range(chapter_count):
        lines = [f"# Chapter {c + 1}: {rng.choice(WORDS).capitalize()} and {rng.choice(WORDS).capitalize()}", ""]
        chapter_end = (c + 1) * pages // chapter_count
        while page <= chapter_end:
            notes = []
            lines += [f"## {number}. Memorandum of Conversation[^s{number}]", "", "::: dateline",
                      f"Washington, November {rng.randint(1, 30)}, 1962.", ":::", ""]
            notes.append(f"[^s{number}]: Source: Department of State, Central Files, "
                         f"611.61/{rng.randint(1, 12)}-{rng.randint(1, 30)}62. Secret. {_sentence(rng, 25)}")
            for _ in range(rng.randint(2, 9)):
                words = _paragraph(rng, rng.randint(40, 220))
                text = []
                for w in words:
                    written += 1
                    if written >= WORDS_PER_PAGE:
                        written = 0
                        page += 1
                        text.append(f"[Page {page}]")
                    text.append(w)
                if rng.random() < 0.4:
                    n = len(notes)
                    text[-1] += f"[^n{number}-{n}]"
                    notes.append(f"[^n{number}-{n}]: {' '.join(_paragraph(rng, rng.randint(15, 90)))}")
                lines += [" ".join(text), ""]
            lines += notes + [""]
            number += 1
        name = f"{c + 1:02d}-chapter.md"
        (folder / name).write_text("\n".join(lines), encoding="utf-8")
        files.append(name)
    listing = "".join(f"  - {f}\n" for f in files)
    (folder / "book.yaml").write_text(
        f"id: synthetic-{pages}\nvolume_title: Synthetic Volume of {pages} Pages\nsubseries: 1961–1963\n"
        f"volume: Volume XCIX\neditors: [A. Generator]\nyear: 1999\nstart_page: '1'\nchapters:\n{listing}",
        encoding="utf-8")
    return folder
