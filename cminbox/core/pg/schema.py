"""The PostgreSQL schema and its versioned migrations.

``schema_version`` holds one row per step applied. Steps are numbered SQL scripts applied
in order, each in the transaction that records it, under a transaction-scoped advisory
lock: two instances starting together queue on the lock, and the second finds the steps
already applied. A database newer than this program is refused (it would misread it).

The event log (``events``) is append-only by a trigger that rejects UPDATE, DELETE and
TRUNCATE. A trigger rather than REVOKE: the role cminbox connects as owns the tables (it
runs the migrations), and an owner may grant itself back what was revoked; the trigger
holds for every role that cannot alter the table's definition.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cminbox.core.people import identity
from cminbox.core.pg.connection import PostgresError

if TYPE_CHECKING:
    from psycopg import Connection

# pg_advisory_xact_lock key: "cmin" in ASCII, so it never collides with another app's small numbers.
MIGRATION_LOCK = 0x636D696E

_V1 = """
CREATE TABLE items (
    id             text PRIMARY KEY,
    channel        text NOT NULL,
    channel_type   text NOT NULL,
    native_id      text NOT NULL,
    kind           text NOT NULL,
    author_handle  text NOT NULL,
    author_name    text NOT NULL DEFAULT '',
    author_key     text NOT NULL,
    text           text NOT NULL,
    created_at     timestamptz NOT NULL,
    thread_key     text NOT NULL,
    message        jsonb NOT NULL,
    status         text NOT NULL DEFAULT 'new',
    tags           text[] NOT NULL DEFAULT '{}',
    assignee       text,
    priority_rank  integer NOT NULL DEFAULT 1,
    snoozed_until  timestamptz,
    first_response_at timestamptz,
    triage         jsonb,
    rev            bigint NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_created_at ON items (created_at DESC, id DESC);
CREATE INDEX items_status ON items (status, created_at DESC);
CREATE INDEX items_channel ON items (channel, created_at DESC);
CREATE INDEX items_assignee ON items (assignee) WHERE assignee IS NOT NULL;
CREATE INDEX items_tags ON items USING gin (tags);
CREATE INDEX items_author ON items (author_key);
CREATE INDEX items_thread ON items (channel, thread_key);

CREATE TABLE events (
    position    bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    instance    text NOT NULL,
    message_id  text NOT NULL,
    kind        text NOT NULL,
    label       text NOT NULL DEFAULT '',
    grp         text NOT NULL DEFAULT '',
    before      jsonb NOT NULL DEFAULT '{}',
    after       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_message ON events (message_id, position);
CREATE FUNCTION cminbox_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the cminbox event log is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION cminbox_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION cminbox_events_append_only();
-- Every committed step that appended events wakes the instances LISTENing (feed.py).
CREATE FUNCTION cminbox_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('cminbox_events', '');
    RETURN NULL;
END $$;
CREATE TRIGGER events_notify AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION cminbox_events_notify();

CREATE TABLE undo_groups (
    seq      bigserial PRIMARY KEY,
    grp      text NOT NULL UNIQUE,
    actor    text NOT NULL,
    label    text NOT NULL,
    at       timestamptz NOT NULL,
    entries  jsonb NOT NULL,
    undone   boolean NOT NULL DEFAULT false
);
CREATE INDEX undo_groups_actor ON undo_groups (actor, seq DESC) WHERE NOT undone;

CREATE TABLE cursors (channel text PRIMARY KEY, cursor jsonb);
CREATE TABLE health (channel text PRIMARY KEY, doc jsonb NOT NULL);
CREATE TABLE drafts (message_id text PRIMARY KEY, body text NOT NULL);

CREATE TABLE outbox (
    seq              bigserial UNIQUE,  -- insertion order: "oldest first" among items of one instant
    id               text PRIMARY KEY,
    kind             text NOT NULL,
    message_id       text NOT NULL,
    destination      text NOT NULL,
    payload          jsonb NOT NULL,
    actor            text NOT NULL,
    created_at       timestamptz NOT NULL,
    status           text NOT NULL DEFAULT 'pending',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    claimed_by       text NOT NULL DEFAULT '',
    claimed_until    timestamptz,
    sent_at          timestamptz,
    result           jsonb NOT NULL DEFAULT '{}',
    last_error       text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_in_flight ON outbox (seq) WHERE status IN ('pending', 'sending');

CREATE TABLE archive (
    id           text PRIMARY KEY,
    archived_at  timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    message      jsonb NOT NULL,
    triage       jsonb
);

CREATE TABLE leases (
    name        text PRIMARY KEY,
    holder      text NOT NULL,  -- the instance (host:pid:random), for doctor and the status line
    token       text NOT NULL,  -- the handle holding it: two handles of one process are two holders
    acquired_at timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
"""

# pg_trgm indexes `lower(text) LIKE '%word%'` (and ILIKE): a contrib extension that a managed
# database may not offer, or this role may not be allowed to create; then free text stays a
# sequential scan (correct, slower) and `has_trigram_index` says so. The query compiler writes
# free text as LIKE on the three lower()ed columns, so all three are indexed (an OR is only an
# index scan when every branch is).
_V2 = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
        BEGIN
            CREATE EXTENSION IF NOT EXISTS pg_trgm;
            CREATE INDEX items_text_trgm ON items USING gin (lower(text) gin_trgm_ops);
            CREATE INDEX items_author_trgm ON items USING gin (lower(author_handle) gin_trgm_ops);
            CREATE INDEX items_name_trgm ON items USING gin (lower(author_name) gin_trgm_ops);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm not created (insufficient privilege): free-text search scans';
        END;
    END IF;
END $$;
"""

# The progress of `cminbox store migrate` into this database (one row: where the copy stands).
_V3 = """
CREATE TABLE store_migration (name text PRIMARY KEY, mark jsonb NOT NULL);
"""

# Presence (core/presence.py, pg/presence.py): throwaway heartbeats, hence UNLOGGED.
_V4 = """
CREATE UNLOGGED TABLE presence (
    instance    text PRIMARY KEY,
    person      text NOT NULL,
    message_id  text NOT NULL,
    activity    text NOT NULL,
    expires_at  timestamptz NOT NULL
);
"""

# When an outbox item was claimed, by the server's clock (pg/outbox.py): a claim made before
# the poller lease was taken over by another instance is that instance's at once.
_V5 = """
ALTER TABLE outbox ADD COLUMN claimed_at timestamptz;
"""

# People (core/people.py, pg/people.py): person records, and which person each identity
# belongs to, so the query fields author-tag:, person: and from:staff are subqueries joined on
# the item's identity key (query/sql.py). The key is computed in Python as rows are written
# (SQL's lower() and Python's casefold() disagree outside ASCII); existing rows get it here in
# SQL, and those whose handle is not plain ASCII are recomputed in Python (_fix_identities).
_V6 = """
ALTER TABLE items ADD COLUMN author_identity text NOT NULL DEFAULT '';
UPDATE items SET author_identity = channel || ':' || lower(ltrim(btrim(author_handle), '@'));
CREATE INDEX items_author_identity ON items (author_identity);
CREATE TABLE people (
    id    text PRIMARY KEY,
    doc   jsonb NOT NULL,
    rev   bigint NOT NULL,
    tags  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX people_tags ON people USING gin (tags);
CREATE TABLE person_identities (
    identity   text PRIMARY KEY,
    person_id  text NOT NULL REFERENCES people (id) ON DELETE CASCADE
);
CREATE INDEX person_identities_person ON person_identities (person_id);
"""


def _fix_identities(conn: Connection[Any]) -> None:
    """Rows whose handle has anything but printable ASCII: their key as Python computes it."""
    rows = conn.execute("SELECT id, channel, author_handle FROM items WHERE author_handle ~ '[^!-~]'").fetchall()
    if rows:
        with conn.cursor() as cur:
            cur.executemany(
                "UPDATE items SET author_identity = %s WHERE id = %s", [(identity(ch, h), mid) for mid, ch, h in rows]
            )


# Community answers (core/community.py): who answered an item first lives in its triage
# document; `answered:community` / `answered:staff` read its kind (query/sql.py), indexed here.
_V7 = """
CREATE INDEX items_answered ON items ((triage->'answered'->>'kind'));
"""


# Issue #14, the team store's start and full read at 100k items:
# - the message kept as the JSON text it was written as (json), not as jsonb: every read
#   asks for the text, and printing 100k jsonb documents back as text took the server 350
#   of a full read's 535 ms. The two fields queries read inside it, sentiment and lang,
#   become columns the server computes from it (json's ->> parses the whole text each time:
#   ~5x slower filters). An upsert still compares two versions as jsonb (the same equality);
# - the items in the order every read lists them (time, then the ids' code points, "C"): the
#   old index's ties were in the database's collation, so a full read sorted every row's
#   text after reading it all (an on-disk sort of 100 MB; nothing streamed for 0.5 s);
# - items waiting for a first answer, by age (core/census.py's `waiting`): the first screen's
#   census counts the overdue ones from this index alone and finds the young ones by a range
#   of it; without it both read every row of the table (~40 ms each).
# The table is rewritten once (the ALTER rebuilds every index), under the lock taken first:
# taken midway, an action of another instance could come between two statements and one of
# the two would be cancelled as a deadlock. New indexes are made after the rewrite, once.
_V8 = """
LOCK TABLE items IN ACCESS EXCLUSIVE MODE;
DROP INDEX items_created_at;
ALTER TABLE items ALTER COLUMN message TYPE json USING message::json,
    ADD COLUMN sentiment float8 GENERATED ALWAYS AS ((message->>'sentiment')::float8) STORED,
    ADD COLUMN lang text NOT NULL GENERATED ALWAYS AS (coalesce(message->>'lang', '')) STORED;
CREATE INDEX items_created_at ON items (created_at DESC, id COLLATE "C" DESC);
CREATE INDEX items_waiting ON items (created_at) WHERE status IN ('new', 'open') AND first_response_at IS NULL;
"""


STEPS: tuple[str, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8)
# What a step needs beyond SQL, run in its transaction right after it.
FIXUPS: dict[int, Callable[[Connection[Any]], None]] = {6: _fix_identities}
VERSION = len(STEPS)


def current_version(conn: Connection[Any]) -> int:
    row = conn.execute(
        "SELECT to_regclass('schema_version') IS NOT NULL",
    ).fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    return int(got[0]) if got else 0


def migrate(conn: Connection[Any]) -> list[int]:
    """Bring the database to :data:`VERSION`; returns the steps applied (often none)."""
    applied: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        have = current_version(conn)
        if have > VERSION:
            raise PostgresError(
                f"the database schema is version {have}, newer than this cminbox understands ({VERSION}).",
                "Upgrade cminbox on this host to the version your team uses.",
            )
        for number in range(have + 1, VERSION + 1):
            conn.execute(STEPS[number - 1].encode())
            if number in FIXUPS:
                FIXUPS[number](conn)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
            applied.append(number)
    return applied


def has_trigram_index(conn: Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('items_text_trgm') IS NOT NULL").fetchone()
    return bool(row and row[0])


MIN_SERVER = 13  # the oldest PostgreSQL still supported upstream when this was written; tested on 15


def server_facts(conn: Connection[Any]) -> dict[str, str]:
    """For `cminbox doctor`: the server version, whether this connection uses TLS, whether it
    is local (a Unix socket or loopback, where TLS adds nothing), and the poller lease's holder
    with the seconds since it took the lease ("" when nobody holds it)."""
    row = conn.execute(
        "SELECT current_setting('server_version'), current_setting('server_version_num'),"
        " coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),"
        " inet_server_addr() IS NULL OR host(inet_server_addr()) IN ('127.0.0.1', '::1'),"
        " (SELECT holder FROM leases WHERE name = 'poller' AND expires_at >= clock_timestamp()),"
        " (SELECT extract(epoch FROM clock_timestamp() - acquired_at)::bigint FROM leases"
        "  WHERE name = 'poller' AND expires_at >= clock_timestamp())"
    ).fetchone()
    assert row is not None
    return {
        "version": f"PostgreSQL {row[0]}",
        "major": str(int(row[1]) // 10000),
        "ssl": "on" if row[2] else "off",
        "local": "yes" if row[3] else "no",
        "holder": row[4] or "",
        "held_for": "" if row[5] is None else str(row[5]),
    }


def version_verdict(facts: dict[str, str]) -> tuple[bool, str]:
    major = int(facts["major"])
    if major < MIN_SERVER:
        return False, f"{facts['version']}: cminbox needs PostgreSQL {MIN_SERVER} or newer; upgrade the server"
    return True, facts["version"]


def tls_verdict(facts: dict[str, str]) -> tuple[bool, str]:
    """TLS is needed on a connection that leaves the host; on loopback or a socket it adds nothing."""
    if facts["ssl"] == "on":
        return True, "TLS on"
    if facts["local"] == "yes":
        return True, "TLS off (a local connection: TLS adds nothing)"
    return False, (
        "TLS off on a connection to another host: the password and every message cross the network in clear; "
        'set sslmode = "verify-full" (with sslrootcert) or at least "require" in [store]'
    )
