"""Errors of the CDR import."""

from __future__ import annotations

from denwa.core.errors import DenwaError


class CdrFileError(DenwaError):
    """A CDR file line is wrong; nothing from the file is imported."""

    code = "cdr_file_error"

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}:{line}: {problem}")
        self.source = source
        self.line = line
        self.problem = problem
