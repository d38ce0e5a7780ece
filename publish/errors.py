"""User-facing errors and diagnostics: each carries an exit code and, where known, a place."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Exit codes, documented in the README.
EXIT_OK = 0
EXIT_INTERNAL = 1  # a bug: the traceback is shown
EXIT_USAGE = 2  # bad command line (argparse's own code)
EXIT_MANUSCRIPT = 3  # the manuscript has errors (or warnings under --strict)
EXIT_REFUSED = 4  # the manuscript asks for something unsafe (network, files outside)
EXIT_OUTPUT = 5  # an output could not be written
EXIT_INTERRUPTED = 130


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in the manuscript, printed as ``path:line:column: CODE message``."""

    path: str
    line: int
    column: int
    code: str
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        return f"{where}: {self.code} {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class PublishError(Exception):
    """An error the user can fix; shown as one message, never as a traceback."""

    exit_code = EXIT_MANUSCRIPT

    def __init__(self, message: str, path: Path | str | None = None, line: int = 0):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line

    def __str__(self) -> str:
        if self.path and self.line:
            return f"{self.path}:{self.line}: {self.message}"
        if self.path:
            return f"{self.path}: {self.message}"
        return self.message


class ManuscriptError(PublishError):
    """The manuscript has problems; carries every diagnostic found."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = diagnostics[0] if diagnostics else None
        super().__init__(str(first) if first else "the manuscript has errors")

    @property
    def exit_code(self) -> int:
        """Refused input has its own code, so that a caller can tell an attack from a typo."""
        return EXIT_REFUSED if any(d.is_error and d.code.startswith("R") for d in self.diagnostics) \
            else EXIT_MANUSCRIPT


class RefusedError(PublishError):
    """The manuscript asks for a resource outside what a build may read."""

    exit_code = EXIT_REFUSED


class OutputError(PublishError):
    """An output file could not be written."""

    exit_code = EXIT_OUTPUT
