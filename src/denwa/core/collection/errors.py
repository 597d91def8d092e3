"""Errors of the collection core; each carries its data and a stable ``code``."""

from __future__ import annotations

from denwa.core.errors import DenwaError


class CollectionError(DenwaError):
    """Base of the collection errors (core and services)."""

    code = "collection_error"


class InvalidField(CollectionError):
    """A value cannot go into a field: names the field and what is wrong."""

    code = "invalid_field"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class UnconvertibleText(InvalidField):
    """Text has a character the banks' half-width set cannot hold."""

    code = "unconvertible_text"

    def __init__(self, field: str, text: str, index: int) -> None:
        char = text[index]
        super().__init__(
            field,
            f"{char!r} (character {index + 1} of {text!r}) cannot be written in the banks'"
            " half-width character set (A-Z, 0-9, half-width katakana, space and a few symbols)",
        )
        self.text = text
        self.index = index
        self.char = char


class ZenginFileError(CollectionError):
    """A Zengin file is malformed or does not match what was requested.

    ``record`` is the 1-based record number (the header is record 1), ``position``
    the 1-based byte within that record, ``offset`` the 0-based byte in the file.
    """

    code = "zengin_file_error"

    def __init__(
        self,
        record: int,
        position: int,
        problem: str,
        *,
        offset: int,
        field: str = "",
    ) -> None:
        where = f"record {record}, byte {position}"
        if field:
            where += f" ({field})"
        super().__init__(f"{where}: {problem}")
        self.record = record
        self.position = position
        self.offset = offset
        self.field = field
        self.problem = problem
