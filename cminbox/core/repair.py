"""`cminbox doctor --repair`: salvage what can be read from a broken store file, keep a backup.

A file cminbox wrote itself is always whole (atomic replace), so a broken file means a
hand edit, a disk fault or a copy gone wrong. Repair never guesses silently: the original
is kept under ``backups/repair-<time>/``, the documents that still fit the schema are kept,
and the report says how many were dropped and where the original is.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from cminbox.core.models import Message, TriageState
from cminbox.core.segment import atomic_write_bytes


@dataclass(frozen=True)
class Repaired:
    path: Path
    backup: Path
    kept: int
    dropped: int

    def describe(self) -> str:
        if self.kept == 0 and self.dropped == 0:
            return f"{self.path}: unreadable as JSON; moved aside to {self.backup} (nothing could be kept)"
        return (
            f"{self.path}: kept {self.kept} document(s), dropped {self.dropped} that did not fit "
            f"(the original is in {self.backup})"
        )


def _doc_type(data_dir: Path, path: Path) -> type | None:
    folder = path.relative_to(data_dir).parts[0]
    return {"messages": Message, "triage": TriageState}.get(folder)


def _table_name(data_dir: Path, path: Path) -> str:
    rel = path.relative_to(data_dir)
    if rel.parts[0] in ("messages", "triage"):
        return rel.parts[0]
    return path.stem  # state/<name>.json and outbox.json keep one table named after the file


def repair_file(data_dir: Path, path: Path, *, now: float | None = None) -> Repaired:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    backup = data_dir / "backups" / f"repair-{stamp}" / path.relative_to(data_dir)
    backup.parent.mkdir(parents=True, exist_ok=True)
    if not backup.exists():
        os.link(path, backup)
    doc_type = _doc_type(data_dir, path)
    table = _table_name(data_dir, path)
    try:
        tables = msgspec.json.decode(path.read_bytes())
    except msgspec.DecodeError:
        path.unlink()
        return Repaired(path, backup, 0, 0)
    docs: dict[str, Any] = tables.get(table, {}) if isinstance(tables, dict) else {}
    kept: dict[str, Any] = {}
    for doc_id, doc in docs.items() if isinstance(docs, dict) else []:
        if not (isinstance(doc, dict) and str(doc_id).isdigit()):
            continue
        try:
            if doc_type is not None:
                msgspec.convert(doc, doc_type, strict=False)
        except (msgspec.ValidationError, ValueError, TypeError):
            continue
        kept[str(doc_id)] = doc
    total = len(docs) if isinstance(docs, dict) else 0
    atomic_write_bytes(path, msgspec.json.encode({table: kept}))
    return Repaired(path, backup, len(kept), total - len(kept))
