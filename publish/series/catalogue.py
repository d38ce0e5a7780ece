"""The catalogue: series.yaml, a list of volumes, each an id and a source (a TEI file or a manuscript folder)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..book.config import ID_PATTERN
from ..book.errors import Diagnostic, ManuscriptError

KEYS = ("id", "source")
EXAMPLE = "volumes: [{id: frus1936v03, source: tei/frus1936v03.xml}]"


@dataclass(frozen=True)
class Volume:
    """One volume of the series, as the catalogue lists it."""

    id: str
    given: str  # the source as the catalogue writes it, relative to the catalogue's folder
    source: Path

    @property
    def tei(self) -> bool:
        """Tell whether the source is a TEI file to import (else it is a manuscript folder)."""
        return not self.source.is_dir()

    def files(self) -> list[Path]:
        """Return the files the volume is made from, in a fixed order (none if the source is missing)."""
        if self.source.is_file():
            return [self.source]
        if not self.source.is_dir():
            return []
        # What a build leaves in the folder (.cache, a .git) is not the manuscript.
        return sorted(p for p in self.source.rglob("*") if p.is_file()
                      and not any(part.startswith(".") for part in p.relative_to(self.source).parts))

    @property
    def size(self) -> int:
        """Return the bytes of the source: the measure its share of the work is balanced by."""
        return sum(p.stat().st_size for p in self.files())


@dataclass(frozen=True)
class Catalogue:
    """The series: its title, its folder (the sources are relative to it) and its volumes in order."""

    path: Path
    title: str
    volumes: list[Volume]

    @property
    def folder(self) -> Path:
        return self.path.parent


def read_catalogue(path: Path) -> Catalogue:
    """Read series.yaml; raise ManuscriptError listing every problem in it (codes C001 to C004)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = "it is not UTF-8" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc))
        raise ManuscriptError([Diagnostic(shown, 0, 0, "C001", f"cannot read the catalogue: {why}")]) from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManuscriptError([Diagnostic(shown, line, col, "C001", f"YAML syntax error: {problem}")]) from None
    top = dict(_pairs(root)) if isinstance(root, yaml.MappingNode) else {}
    listed = top.get("volumes")
    if not isinstance(listed, yaml.SequenceNode):
        line, col = _place(listed or root)
        raise ManuscriptError([Diagnostic(shown, line, col, "C002", f"the catalogue must hold a list 'volumes' "
                                          f"of id and source, e.g. {EXAMPLE}")])
    title = top.get("title")
    diags, volumes, seen = [], [], {}
    for entry in listed.value:
        line, col = _place(entry)
        fields = dict(_pairs(entry)) if isinstance(entry, yaml.MappingNode) else None
        wrong = None if fields is None else [k for k in fields if k not in KEYS]
        if fields is None or wrong or not all(_text(fields.get(k)) for k in KEYS):
            what = f"unknown key '{wrong[0]}'" if wrong else "each volume needs an 'id' and a 'source', as text"
            diags.append(Diagnostic(shown, line, col, "C002", f"{what}: e.g. {EXAMPLE}"))
            continue
        vid, given = _text(fields["id"]), _text(fields["source"])
        line, col = _place(fields["id"])
        if not ID_PATTERN.fullmatch(vid):
            diags.append(Diagnostic(shown, line, col, "C003", f"id '{vid}' may hold only letters, digits, '.', '_' "
                                    "and '-' (it names the volume's folder and files)"))
        elif vid in seen:
            diags.append(Diagnostic(shown, line, col, "C004", f"id '{vid}' is given twice (first on line "
                                    f"{seen[vid]}): each volume needs its own"))
        else:
            seen[vid] = line
            # Relative to where the catalogue is, not to a link to it.
            volumes.append(Volume(vid, given, path.resolve().parent / given))
    if diags:
        raise ManuscriptError(diags)
    return Catalogue(path, _text(title) or "Foreign Relations of the United States", volumes)


def _pairs(node: yaml.MappingNode):
    for key, value in node.value:
        yield key.value, value


def _text(node) -> str:
    """Return a scalar's text, stripped; '' for anything else."""
    return str(node.value).strip() if isinstance(node, yaml.ScalarNode) and node.value is not None else ""


def _place(node) -> tuple[int, int]:
    mark = getattr(node, "start_mark", None)
    return (mark.line + 1, mark.column + 1) if mark else (1, 1)
