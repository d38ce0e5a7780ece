"""User-facing errors and diagnostics: each carries an exit code and, where known, a place."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

# Every exit code, declared once: `publish --help` lists this table and docs/checks-and-safety.md repeats it.
EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_MANUSCRIPT = 3
EXIT_REFUSED = 4
EXIT_OUTPUT = 5
EXIT_TOOL = 6
EXIT_SOURCE = 7
EXIT_SETTINGS = 8
# A series run: this plus the number of volumes that failed, up to EXIT_SERIES_MAX.
EXIT_SERIES = 100
EXIT_SERIES_MAX = 129
EXIT_INTERRUPTED = 130
EXIT_CODES = {
    EXIT_OK: "success (for check: no errors, and no warnings under --strict)",
    EXIT_INTERNAL: "an internal error (a bug: the traceback is shown; please report it)",
    EXIT_USAGE: "the command line is wrong",
    EXIT_MANUSCRIPT: "the manuscript has errors (or warnings under --strict); nothing was written",
    EXIT_REFUSED: "the manuscript asks for something unsafe (network, files outside its folder, active content)",
    EXIT_OUTPUT: "an output could not be written (the folder is named); earlier outputs are untouched",
    EXIT_TOOL: "a tool the build runs failed (pandoc, or a PDF worker process that crashed)",
    EXIT_SOURCE: "the TEI file to import is missing, unreadable or not TEI",
    EXIT_SETTINGS: "the release or build settings are wrong (versions that disagree, no version, no build date, "
                   "a bad SOURCE_DATE_EPOCH)",
    EXIT_SERIES: "publish series: 100 + the number of volumes that failed or were not built (129: 29 or more); "
                 "each is named, with its cause, in the summary and in its record",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C or SIGTERM); earlier outputs are untouched",
}


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


class Places:
    """Turn offsets in a text into (line, column) pairs, each in logarithmic time."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def at(self, offset: int) -> tuple[int, int]:
        """Return the line and column (both from 1) of an offset."""
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


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


class ToolError(PublishError):
    """A program the build runs (pandoc, a PDF worker) failed."""

    exit_code = EXIT_TOOL


class SourceError(PublishError):
    """The file to import cannot be read as TEI."""

    exit_code = EXIT_SOURCE


class SettingsError(PublishError):
    """The release or build settings cannot be used: versions, the build date."""

    exit_code = EXIT_SETTINGS
