"""Recording which versions of the operator files were in force."""

from __future__ import annotations

from pathlib import Path

from denwa.core.operator_data.bundle import OperatorData
from denwa.operator_files.models import DataFileVersion


def record_versions(data: OperatorData, actor: str) -> int:
    """Store each loaded file's content once per version; returns how many were new."""
    known = set(DataFileVersion.objects.values_list("name", "sha256"))
    new = []
    for source in data.sources.values():
        if (source.name, source.sha256) in known:
            continue
        content = Path(source.origin).read_text(encoding="utf-8-sig")
        new.append(
            DataFileVersion(
                name=source.name,
                sha256=source.sha256,
                origin=source.origin,
                content=content,
                loaded_by=actor,
            )
        )
    DataFileVersion.objects.bulk_create(new)
    return len(new)
