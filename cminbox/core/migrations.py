"""Schema versions of the data dir, and the steps that bring an older one up to date.

Every step works on the raw JSON (not on today's models, which will move on), is
idempotent, and is crash-safe: it only adds files by atomic replace and removes a file
once its replacement is durable, so a kill mid-step is finished by the next start.
``meta.json`` moves on one version per completed step. Before the first step the old
files are hard-linked into ``backups/schema-N-<time>/``: files are only ever replaced,
never modified in place, so the links keep the old store intact at no cost in space.

History:
    1  messages in one segment per month (``messages/YYYY-MM.json``)
    2  messages in bounded parts (``messages/YYYY-MM-NNN.json``, at most PART_DOCS each),
       so that writing a new message rewrites ~2 MB rather than a whole month; ``archive/``
    3  the event log (``events/NNNNNN.json``): every history entry of every item, live or
       archived, becomes an event, in the order of its time (the entries stay in the triage
       records, which keep each item's history next to its state)
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.segment import atomic_write_bytes, fsync_dir

SCHEMA_VERSION = 3
EVENT_PART = 1000  # events per part of the log (as cminbox.core.event_log writes them)
PART_DOCS = 2500


class SchemaError(CminboxError):
    pass


def read_version(data_dir: Path) -> int | None:
    meta = data_dir / "meta.json"
    if not meta.exists():
        return None
    try:
        version = json.loads(meta.read_text())["schema"]
        if not isinstance(version, int):
            raise TypeError("schema is not a number")
    except (ValueError, KeyError, TypeError) as exc:
        raise SchemaError(f'{meta} is unreadable ({exc}); expected {{"schema": {SCHEMA_VERSION}}}') from None
    return version


def write_version(data_dir: Path, version: int, *, durable: bool = True) -> None:
    atomic_write_bytes(data_dir / "meta.json", json.dumps({"schema": version}).encode(), durable=durable)


def part_name(month: str, part: int) -> str:
    return f"{month}-{part:03d}"


def _v1_to_v2(data_dir: Path, durable: bool) -> None:
    folder = data_dir / "messages"
    for old in sorted(folder.glob("[0-9][0-9][0-9][0-9]-[0-9][0-9].json")):
        tables: dict[str, dict[str, Any]] = msgspec.json.decode(old.read_bytes()) if old.stat().st_size else {}
        docs = sorted(tables.get("messages", {}).values(), key=lambda d: (str(d.get("created_at")), str(d.get("id"))))
        for part, start in enumerate(range(0, len(docs), PART_DOCS)):
            chunk = docs[start : start + PART_DOCS]
            body = {"messages": {str(i): doc for i, doc in enumerate(chunk, start=1)}}
            atomic_write_bytes(folder / f"{part_name(old.stem, part)}.json", msgspec.json.encode(body), durable=durable)
        old.unlink()
        if durable:
            fsync_dir(folder)
    (data_dir / "archive").mkdir(exist_ok=True)


def _history_entries(data_dir: Path) -> list[tuple[datetime, str, int, dict[str, Any]]]:
    """(time, message id, index, entry) of every history entry, in the live triage records and the archive."""
    states: list[dict[str, Any]] = []
    for shard in sorted((data_dir / "triage").glob("shard-*.json")):
        raw = shard.read_bytes()
        if raw.strip():
            states.extend(msgspec.json.decode(raw).get("triage", {}).values())
    for part in sorted((data_dir / "archive").glob("*.json.gz")):
        tables = msgspec.json.decode(gzip.decompress(part.read_bytes()))
        states.extend(doc["triage"] for doc in tables.get("archive", {}).values())
    entries = []
    for state in states:
        for index, entry in enumerate(state.get("history", ())):
            entries.append((datetime.fromisoformat(str(entry["at"])), str(state["id"]), index, entry))
    return sorted(entries, key=lambda e: (e[0], e[1], e[2]))


def _v2_to_v3(data_dir: Path, durable: bool) -> None:
    # Rebuilt from scratch each time: a run cut short left parts that the next run replaces.
    folder = data_dir / "events"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    docs = [
        {
            "pos": pos,
            "kind": "undo" if str(entry["action"]).startswith("undo: ") else "action",
            "at": entry["at"],
            "actor": entry["actor"],
            "instance": "",  # not known before the event log
            "message_id": mid,
            "label": entry["action"],
            "before": entry.get("before", {}),
            "after": entry.get("after", {}),
            "group": entry.get("group", ""),
        }
        for pos, (_, mid, _, entry) in enumerate(_history_entries(data_dir), start=1)
    ]
    for number, start in enumerate(range(0, len(docs), EVENT_PART)):
        chunk = docs[start : start + EVENT_PART]
        body = {"events": {str(i): doc for i, doc in enumerate(chunk, start=1)}}
        atomic_write_bytes(folder / f"{number:06d}.json", msgspec.json.encode(body), durable=durable)
    if durable:
        fsync_dir(folder)


MIGRATIONS: dict[int, Callable[[Path, bool], None]] = {1: _v1_to_v2, 2: _v2_to_v3}


def backup(data_dir: Path, version: int) -> Path:
    target = data_dir / "backups" / f"schema-{version}-{time.strftime('%Y%m%d-%H%M%S')}"
    for path in data_dir.rglob("*.json"):
        rel = path.relative_to(data_dir)
        if rel.parts[0] == "backups":
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, target / rel)
        except OSError:  # a file system without hard links: copy
            (target / rel).write_bytes(path.read_bytes())
    return target


def migrate(data_dir: Path, *, durable: bool = True) -> list[str]:
    """Bring the data dir to SCHEMA_VERSION (call under the store lock). Returns what was done."""
    version = read_version(data_dir)
    if version is None:
        write_version(data_dir, SCHEMA_VERSION, durable=durable)
        return []
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"{data_dir} was written by a newer cminbox (schema {version}, this one knows {SCHEMA_VERSION}). "
            "Upgrade cminbox, or point --data-dir elsewhere."
        )
    done: list[str] = []
    if version < SCHEMA_VERSION:
        done.append(f"backup of schema {version} in {backup(data_dir, version)}")
    while version < SCHEMA_VERSION:
        MIGRATIONS[version](data_dir, durable)
        version += 1
        write_version(data_dir, version, durable=durable)
        done.append(f"migrated to schema {version}")
    return done
