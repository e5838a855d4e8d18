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


class UnknownEntity(InputError, LookupError):
    """No entity has that name (label, alternative label or IRI); the message lists the
    closest matches, also kept in ``suggestions`` as ``(label, curie)`` pairs."""

    def __init__(self, name: str, suggestions=(), of_type: str = "") -> None:
        self.name, self.suggestions = name, tuple(suggestions)
        hint = (f"; closest matches: {_listing(self.suggestions)}" if self.suggestions
                else "; no name comes close (kg.search() finds names by part)")
        kind = f" of type {of_type}" if of_type else ""
        super().__init__(f"no entity{kind} named {name!r}{hint}")


class AmbiguousEntity(InputError, LookupError):
    """Several entities carry that name; the message lists them (``candidates``, as
    ``(label, curie)`` pairs) so the caller can pick one by its label or IRI."""

    def __init__(self, name: str, candidates=(), of_type: str = "") -> None:
        self.name, self.candidates = name, tuple(candidates)
        self.suggestions = self.candidates
        kind = f" of type {of_type}" if of_type else ""
        super().__init__(f"{name!r} names {len(self.candidates)} entities{kind}: "
                         f"{_listing(self.candidates)}; use the label or the IRI of one")


def _listing(pairs) -> str:
    return ", ".join(f"{label} ({curie})" for label, curie in pairs)
