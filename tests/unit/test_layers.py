"""The package's rooms and the one way their imports go: each stage reads only the rooms below it."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "publish"
# What each room may import of the package besides itself, lowest first. The readers and the writers
# meet only in book/ (the model and the markup they share): none of them imports another.
MAY_IMPORT = {
    "": set(),  # the package: its version only
    "book": set(),
    "system": {"book"},
    "markdown": {"book", "system"},
    "tei": {"book", "system"},
    "pdf": {"book", "system"},
    "epub": {"book", "system"},
    "build": {"book", "system", "markdown", "pdf", "epub"},
    "release": {"book", "system", "build"},
    "watch": {"book", "system", "build"},
    "cite": {"book", "system", "build"},
    "series": {"book", "system", "build", "tei"},
    "cli": {"book", "system", "build", "release", "tei", "watch", "series", "cite"},
    "__main__": {"cli"},
}


def room(module: str) -> str:
    """Return the room of a dotted module name under publish ('' for the package itself)."""
    return module.removesuffix(".__init__").split(".")[1] if module.count(".") and module != "publish.__init__" else ""


def imports(path: Path) -> set[str]:
    """Return the modules of the package that the file imports, as absolute dotted names."""
    module = "publish." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            name = ".".join([*base, node.module] if node.module else base)
            if name == "publish" or name.startswith("publish."):
                # "from . import build" imports a module; "from .. import __version__" the package.
                found |= {f"{name}.{a.name}" if name == "publish" and a.name != "__version__" else name
                          for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("publish.")}
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_one_way(path):
    own = room("publish." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    allowed = MAY_IMPORT[own] | {own, ""}
    wrong = sorted(m for m in imports(path) if room(m) not in allowed)
    assert not wrong, f"{path.relative_to(PACKAGE)} ({own or 'publish'}) imports {wrong}"


def test_every_room_is_declared():
    rooms = {room("publish." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)) for p in MODULES}
    assert rooms <= set(MAY_IMPORT), "a new room: say in MAY_IMPORT what it may import"


def test_the_check_sees_an_import():
    """The parser resolves relative imports, of one dot and of two."""
    assert "publish.book.model" in imports(PACKAGE / "pdf" / "writer.py")
    assert "publish.pdf.join" in imports(PACKAGE / "pdf" / "writer.py")
    assert "publish.build" in imports(PACKAGE / "release.py")
