"""Exceptions raised by kzgraph. Every user-facing failure is a `KzGraphError`."""
from __future__ import annotations


class KzGraphError(Exception):
    """Base class: a problem the user can fix; the CLI prints it without a traceback."""

    exit_code = 2


class InputError(KzGraphError):
    """Bad input: unreadable or malformed file, bad query, bad parameter (CLI exit code 2)."""


class ParseError(InputError):
    """A data file that does not parse; carries the file and the 1-based line."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path, self.line, self.message = path, line, message
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class ValidationError(KzGraphError):
    """The graph does not conform to the shapes or fails a quality check (exit code 1)."""

    exit_code = 1

    def __init__(self, report) -> None:  # report: kzgraph.validate.Report
        self.report = report
        super().__init__(report.text())
