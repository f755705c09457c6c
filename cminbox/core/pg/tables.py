"""The PostgreSQL store's small tables: poll cursors and health per channel, reply drafts.

The same methods as the TinyDB store's ``StateTables``; each is one statement (an upsert
or a delete), so two instances writing the same key leave the last write, never a mix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from psycopg import Connection

from cminbox.core.packed_extras import enc_hook
from cminbox.core.pg.db import Database

_ENC = msgspec.json.Encoder(enc_hook=enc_hook)


def _json(value: Any) -> str:
    return _ENC.encode(value).decode()


class SmallTables:
    db: Database

    def get_cursor(self, channel: str) -> dict[str, Any] | None:
        row = self.db.read(
            lambda c: c.execute("SELECT cursor::text FROM cursors WHERE channel = %s", (channel,)).fetchone()
        )
        return msgspec.json.decode(row[0]) if row and row[0] is not None else None

    def set_cursor(self, channel: str, cursor: dict[str, Any] | None) -> None:
        self.db.run(
            lambda c: c.execute(
                "INSERT INTO cursors (channel, cursor) VALUES (%s, %s::jsonb)"
                " ON CONFLICT (channel) DO UPDATE SET cursor = EXCLUDED.cursor",
                (channel, None if cursor is None else _json(cursor)),
            ),
            "the poll cursor",
        )

    def rewind_cursors(self, channels: Iterable[str] | None) -> list[str]:
        """Forget the poll cursor of ``channels`` (of every channel: None). Returns the channels rewound."""
        wanted = None if channels is None else list(channels)

        def work(conn: Connection[Any]) -> list[str]:
            rows = conn.execute(
                "UPDATE cursors SET cursor = NULL WHERE cursor IS NOT NULL"
                " AND (%s::text[] IS NULL OR channel = ANY(%s::text[])) RETURNING channel",
                (wanted, wanted),
            ).fetchall()
            return sorted(r[0] for r in rows)

        return self.db.run(work, "the cursor rewind")

    def get_health(self, channel: str) -> dict[str, Any] | None:
        row = self.db.read(
            lambda c: c.execute("SELECT doc::text FROM health WHERE channel = %s", (channel,)).fetchone()
        )
        return {**msgspec.json.decode(row[0]), "id": channel} if row else None

    def set_health(self, channel: str, health: dict[str, Any]) -> None:
        self.db.run(
            lambda c: c.execute(
                "INSERT INTO health (channel, doc) VALUES (%s, %s::jsonb)"
                " ON CONFLICT (channel) DO UPDATE SET doc = EXCLUDED.doc",
                (channel, _json({**health, "id": channel})),
            ),
            "the channel health",
        )

    def all_health(self) -> dict[str, dict[str, Any]]:
        rows = self.db.read(lambda c: c.execute("SELECT channel, doc::text FROM health").fetchall())
        return {ch: {**msgspec.json.decode(doc), "id": ch} for ch, doc in rows}

    def get_draft(self, message_id: str) -> str:
        row = self.db.read(
            lambda c: c.execute("SELECT body FROM drafts WHERE message_id = %s", (message_id,)).fetchone()
        )
        return str(row[0]) if row else ""

    def set_draft(self, message_id: str, text: str) -> None:
        """Keep (or, when empty, drop) the unsent reply to a message. NUL characters are
        dropped (PostgreSQL text cannot hold them; a pasted one would fail the whole save)."""
        text = text.replace("\x00", "")
        if not text.strip():
            self.db.run(lambda c: c.execute("DELETE FROM drafts WHERE message_id = %s", (message_id,)), "the draft")
            return
        self.db.run(
            lambda c: c.execute(
                "INSERT INTO drafts (message_id, body) VALUES (%s, %s)"
                " ON CONFLICT (message_id) DO UPDATE SET body = EXCLUDED.body",
                (message_id, text),
            ),
            "the draft",
        )
