"""The PostgreSQL store against a real server: schema migrations (versioned, idempotent, safe
when two instances start together), the append-only event log, messages, triage actions with
their history and undo, queries compiled to SQL, the small tables, the outbox claimed with
SKIP LOCKED, and the poller lease."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest

from cminbox.core.clock import FrozenClock
from cminbox.core.config import parse as parse_config
from cminbox.core.events import EventKind
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind, OutboxStatus
from cminbox.core.pg import schema
from cminbox.core.pg.connection import PostgresError
from cminbox.core.pg.items import upsert_rows
from cminbox.core.pg.store import EVERY_ITEM, PgStore, _stream
from cminbox.core.query import parse
from cminbox.core.query.sql import ITEMS_DDL, compile_sql
from cminbox.core.sending_api import LeaseHolder
from cminbox.core.store_api import StoreApi
from cminbox.core.triage import AddTags, Assign, SetStatus
from cminbox.core.wiring import wire
from tests.factories import make_message
from tests.pg_helpers import at_schema, lease_of, open_store, outbox_of


@pytest.fixture
def pg(pg_database: str) -> Iterator[PgStore]:
    store = open_store(pg_database)
    yield store
    store.close()


def test_migrations_are_versioned_idempotent_and_safe_to_race(pg_database: str) -> None:
    results: list[list[int]] = []

    def start() -> None:
        with psycopg.connect(pg_database) as conn:
            results.append(schema.migrate(conn))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results, key=len) == [[], [], [], list(range(1, schema.VERSION + 1))]
    with psycopg.connect(pg_database) as conn:
        assert schema.current_version(conn) == schema.VERSION
        assert [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY 1")] == list(
            range(1, schema.VERSION + 1)
        )
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (schema.VERSION + 1,))
        conn.commit()
        with pytest.raises(PostgresError, match="newer than this cminbox understands"):
            schema.migrate(conn)


def test_items_has_every_column_the_query_compiler_uses(pg: PgStore) -> None:
    wanted = re.findall(r"^\s+([a-z_]+)\s+(text|int|timestamptz)", ITEMS_DDL, re.MULTILINE)
    have = dict(
        pg.db.read(
            lambda c: c.execute(
                "SELECT column_name, udt_name FROM information_schema.columns WHERE table_name = 'items'"
            ).fetchall()
        )
    )
    short = {"text": "text", "int": "int4", "timestamptz": "timestamptz"}
    assert wanted and {name: short[kind] for name, kind in wanted if name != "tags"}.items() <= have.items()
    assert have["tags"] == "_text"


def test_the_event_log_is_append_only(pg: PgStore) -> None:
    pg.upsert_messages([make_message(1)])
    for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events", "TRUNCATE events"):

        def refused(c: psycopg.Connection[Any], s: str = statement) -> object:
            return c.execute(s.encode())

        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            pg.db.run(refused)
    assert pg.db.read(lambda c: c.execute("SELECT count(*) FROM events").fetchone()) == (1,)


def test_messages_actions_history_and_undo(pg: PgStore) -> None:
    assert pg.upsert_messages([make_message(n) for n in range(1, 6)]) == [f"masto:{n}" for n in range(1, 6)]
    assert pg.upsert_messages([make_message(1)]) == []  # same id, same content: nothing new
    edited = make_message(1, text="edited")
    assert pg.upsert_messages([edited]) == [] and pg.get_message("masto:1") == edited
    assert len(pg) == 5 and pg.resolve_id("3") == "masto:3"
    tagged = pg.act(["masto:1", "masto:2", "nope"], AddTags(("bug",)), actor="ana")
    assert tagged.changed == ["masto:1", "masto:2"] and tagged.label == "tag bug"
    pg.act(["masto:1"], SetStatus(Status.DONE), actor="ana")
    assert pg.act(["masto:1"], SetStatus(Status.DONE), actor="ana").changed == []  # no change, no event
    state = pg.triage("masto:1")
    # The edit is a line of the history and a revision, like an action (test_edits.py).
    assert state.status == Status.DONE and state.tags == ("bug",) and state.rev == 3
    assert [h.action for h in state.history] == ["edited: text", "tag bug", "status → done"]
    assert state.history[1].before == {"tags": []} and state.history[1].after == {"tags": ["bug"]}
    undone = pg.undo("ana")
    assert undone is not None and undone.label == "status → done" and undone.changed == ["masto:1"]
    assert pg.triage("masto:1").status == Status.NEW
    assert pg.undo("ana") is not None and pg.triage("masto:2").tags == ()
    assert pg.undo("ana") is None and pg.undo("bo") is None
    assert [h.action for h in pg.triage("masto:1").history][-1] == "undo: tag bug"


def test_queries_run_in_sql_and_the_residue_in_python(pg: PgStore) -> None:
    pg.upsert_messages([make_message(n, text=f"Crème {n}" if n % 2 else f"plain {n}") for n in range(1, 11)])
    pg.act(["masto:1", "masto:2", "masto:3"], AddTags(("bug",)), actor="ana")
    pg.act(["masto:2"], Assign("ana"), actor="ana")
    rows = pg.query(where=parse("tag:bug -is:mine"), me="ana")
    assert [m.id for m, _ in rows] == ["masto:1", "masto:3"]  # newest first (smaller n is newer)
    assert [m.id for m, _ in pg.query(tag="bug", limit=2)] == ["masto:1", "masto:2"]
    rows = pg.query(where=parse('"crème"'), limit=2)  # non-ASCII free text stays in Python
    assert [m.id for m, _ in rows] == ["masto:1", "masto:3"]
    assert [m.id for m, _ in pg.query(status=Status.NEW, channel="masto", where=parse("assignee:ana"))] == ["masto:2"]


def test_small_tables_threads_and_authors(pg: PgStore) -> None:
    pg.set_cursor("masto", {"since": "9"})
    assert pg.get_cursor("masto") == {"since": "9"} and pg.rewind_cursors(["other"]) == []
    assert pg.rewind_cursors(None) == ["masto"] and pg.get_cursor("masto") is None
    pg.set_health("masto", {"state": "ok"})
    assert pg.all_health() == {"masto": {"state": "ok", "id": "masto"}}
    pg.set_draft("masto:1", "hello")
    assert pg.get_draft("masto:1") == "hello"
    pg.set_draft("masto:1", "  ")
    assert pg.get_draft("masto:1") == ""
    msgs = [make_message(n) for n in (1, 8, 15)]  # the same author (n % 7 == 1)
    pg.upsert_messages(msgs)
    assert [m.id for m in pg.by_author(msgs[0])] == ["masto:8", "masto:15"]
    assert pg.thread_of(msgs[0]) == [msgs[0]]


def test_refresh_reports_what_other_instances_changed(pg_database: str) -> None:
    ana, bo = open_store(pg_database, instance="a:1:aa"), open_store(pg_database, instance="b:2:bb")
    try:
        ana.upsert_messages([make_message(1), make_message(2)])
        assert bo.refresh() == {"masto:1", "masto:2"} and bo.refresh() == set()
        ana.act(["masto:2"], AddTags(("x",)), actor="ana")
        assert bo.refresh() == {"masto:2"}
        rows = bo.db.read(lambda c: c.execute("SELECT DISTINCT instance FROM events").fetchall())
        assert rows == [("a:1:aa",)]
    finally:
        ana.close()
        bo.close()


def test_outbox_claims_skip_locked_rows_and_retry_with_the_same_key(pg_database: str) -> None:
    clock = FrozenClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    store = open_store(pg_database, clock=clock)
    try:
        one, two = outbox_of(store, "h1:1:aa", clock), outbox_of(store, "h2:2:bb", clock)
        one.lease = timedelta(seconds=0.5)
        items = one.enqueue_many(
            OutboxKind.REPLY, [(f"masto:{n}", "masto", {"text": f"r{n}"}) for n in range(6)], "ana"
        )
        # Two instances claim while a third transaction holds two rows: nobody waits, nobody shares.
        with psycopg.connect(pg_database) as blocker:
            blocker.execute("SELECT id FROM outbox WHERE id = ANY(%s) FOR UPDATE", ([i.id for i in items[:2]],))
            got_one, got_two = one.claim_due(limit=2), two.claim_due(limit=10)
        assert {i.id for i in got_one} | {i.id for i in got_two} == {i.id for i in items[2:]}
        assert not {i.id for i in got_one} & {i.id for i in got_two}
        assert all(i.status == OutboxStatus.SENDING and i.claimed_by == "h1:1:aa" for i in got_one)
        sent = one.mark_sent(got_one[0], {"native_id": "n1"})
        assert sent.status == OutboxStatus.SENT and sent.result == {"native_id": "n1"}
        # h1 dies mid-send: once its claim expires (by the server's clock: the instances' frozen
        # one does not count) the other item is claimed again, same key.
        time.sleep(0.6)
        again = [i for i in two.claim_due() if i.id == got_one[1].id]
        assert again and again[0].idempotency_key == got_one[1].idempotency_key and again[0].attempts == 2
        failed = two.mark_failed(again[0], "boom", permanent=True)
        assert failed.status == OutboxStatus.FAILED and two.retry(failed.id).status == OutboxStatus.PENDING
        assert one.get(sent.id[:6]) == sent and len(one.items(OutboxStatus.SENT)) == 1
    finally:
        store.close()


def test_the_poller_lease_has_one_holder_and_is_taken_over_when_it_expires(pg_database: str) -> None:
    store = open_store(pg_database)
    try:
        first, second = lease_of(store, "h1:1:aa", ttl=0.6), lease_of(store, "h2:2:bb", ttl=0.6)
        assert first.acquire() and not second.acquire()
        assert second.holder() == LeaseHolder(instance="h1:1:aa", pid=0)
        time.sleep(1.0)  # the heartbeat keeps it
        assert not second.acquire() and first.held
        first._stop.set()  # the holder hangs: no more heartbeats
        deadline = time.monotonic() + 5
        while not second.acquire() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert second.holder() == LeaseHolder(instance="h2:2:bb", pid=0)
        assert (first.renew(), first.held) == (False, False)  # the old holder learns it lost it
        second.release()
        assert second.holder() is None and first.acquire()
        first.release()
    finally:
        store.close()


def test_events_are_read_in_commit_order_and_a_commit_wakes_other_instances(pg_database: str) -> None:
    ana, bo = open_store(pg_database, instance="a:1:aa"), open_store(pg_database, instance="b:2:bb")
    try:
        assert bo.wait_for_change(0.2)  # the first call: what came before LISTEN is read
        assert not bo.wait_for_change(0.2)  # listening; nothing committed
        start = bo.last_position()
        woke: list[bool] = []
        waiter = threading.Thread(target=lambda: woke.append(bo.wait_for_change(10)))
        waiter.start()
        time.sleep(0.2)
        ana.upsert_messages([make_message(1), make_message(2)])
        waiter.join()
        assert woke == [True] and bo.refresh() == {"masto:1", "masto:2"}
        ana.act(["masto:1"], AddTags(("x",)), actor="ana")
        events = bo.events(since=start)
        assert [(e.kind, e.message_id) for e in events] == [
            ("arrived", "masto:1"),
            ("arrived", "masto:2"),
            ("action", "masto:1"),
        ]
        assert events[-1].instance == "a:1:aa" and events[-1].after == {"tags": ["x"]}
        assert [e.pos for e in bo.events(since=events[0].pos, limit=1)] == [events[1].pos]
        assert bo.last_position() == events[-1].pos
    finally:
        ana.close()
        bo.close()


def test_archive_restore_and_put_triage(pg: PgStore) -> None:
    pg.upsert_messages([make_message(n) for n in range(1, 4)])
    pg.act(["masto:1", "masto:2"], SetStatus(Status.DONE), actor="ana")
    pg.clock = lambda: datetime(2027, 6, 1, tzinfo=UTC)
    assert pg.archive(timedelta(days=30), dry_run=True) == ["masto:1", "masto:2"]
    assert pg.archive(timedelta(days=30)) == ["masto:1", "masto:2"]
    assert pg.get_message("masto:1") is None and pg.archived_ids() == {"masto:1", "masto:2"}
    [one, _] = sorted(pg.archived(), key=lambda a: a.id)
    assert one.triage.status == Status.DONE and [h.action for h in one.triage.history] == ["status → done"]
    assert pg.restore(["masto:1", "nope"]) == ["masto:1"]
    assert pg.triage("masto:1").status == Status.DONE and pg.archived_ids() == {"masto:2"}
    assert [e.kind for e in pg.events() if e.message_id == "masto:1"] == ["arrived", "action", "archived", "restored"]
    # put_triage: a newer stored revision wins unless told otherwise; history goes to the log once.
    imported = msgspec.structs.replace(pg.triage("masto:1"), tags=("imported",), rev=0)
    assert pg.put_triage([imported]) == 0
    assert pg.put_triage([imported], keep_newer=False) == 1 and pg.triage("masto:1").tags == ("imported",)
    assert len(pg.triage("masto:1").history) == 1


def test_the_config_wires_the_postgresql_backend(pg_database: str, tmp_path: Path) -> None:
    config = parse_config(f'[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\n')
    wired = wire(config, tmp_path)
    try:
        assert isinstance(wired.store, PgStore) and isinstance(wired.store, StoreApi)
        wired.store.upsert_messages([make_message(1)])
        wired.inbox.store.act(["masto:1"], AddTags(("wired",)), actor="ana")
        assert wired.store.triage("masto:1").tags == ("wired",)
        assert wired.store.migrated == []  # created, not upgraded
    finally:
        wired.store.close()


def test_doctor_checks_the_server_schema_tls_and_lease_holder(
    pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cminbox import cli

    path = tmp_path / "config.toml"
    path.write_text(f'[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\n')
    store = open_store(pg_database, instance="h9:9:zz")
    lease = lease_of(store, "h9:9:zz")
    try:
        assert lease.acquire()
        cli.main(["--config", str(path), "--data-dir", str(tmp_path / "data"), "doctor"])
        out = capsys.readouterr().out
    finally:
        lease.release()
        store.close()
    assert "ok    postgresql driver: psycopg" in out
    assert re.search(r"ok    postgresql server: cm@127\.0\.0\.1:\d+/t_\w+: PostgreSQL 1\d", out)
    assert "ok    postgresql connection: TLS off (a local connection: TLS adds nothing)" in out
    assert f"ok    postgresql schema: version {schema.VERSION} (this cminbox: {schema.VERSION})" in out
    assert re.search(r"ok    poller lease: held by h9:9:zz for \d+ s", out)
    assert "store migration" not in out


def test_ties_in_time_are_ordered_by_code_points_whatever_the_database_collation(postgres_server: str) -> None:
    """A team's server sorts text by its locale (en-US: "m:B" after "m:a", punctuation ignored);
    the store's order is the one StoreApi.query promises, the TinyDB store's, which the TUI
    keeps without sorting again: newest first, ties by the ids' code points."""
    name = f"t_icu_{secrets.token_hex(6)}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        icu = "LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8' TEMPLATE template0"
        conn.execute(f"CREATE DATABASE {name} {icu}".encode())
    dsn = postgres_server.rsplit("/", 1)[0] + "/" + name
    store = open_store(dsn)
    try:
        at = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
        ids = ["B", "a", "_x", "-y", "b", "Z9", "z"]
        tied = [msgspec.structs.replace(make_message(n, at=at), id=f"masto:{i}") for n, i in enumerate(ids)]
        store.upsert_messages([*tied, make_message(99, at=at + timedelta(minutes=1))])
        with psycopg.connect(dsn) as conn:  # the database does sort them otherwise
            by_locale = [r[0] for r in conn.execute("SELECT id FROM items WHERE id <> 'masto:99' ORDER BY id DESC")]
        expected = ["masto:99", *sorted((m.id for m in tied), reverse=True)]
        assert by_locale != expected[1:]
        assert [m.id for m, _ in store.query()] == expected
        assert [m.id for m, _ in store.query(limit=4)] == expected[:4]
    finally:
        store.close()
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)".encode())


def test_an_author_s_items_are_read_through_the_identity_index(pg: PgStore, pg_database: str) -> None:
    """The author card asks for a person's items: "author_identity = x OR author_identity IN
    (linked identities)" made PostgreSQL scan every item (45 ms at 100k mails, per card, so the
    card landed late and the next key's frame waited for it); one IN over the set uses the index.
    Plans checked with sequential scans discouraged: a plan that still has one cannot avoid it."""
    pg.upsert_messages([make_message(n) for n in range(30)])
    staff = ["masto:@user1@example.social"]
    for text in ("person:masto:@user3@example.social", "-person:masto:@user3@example.social", "from:staff"):
        where, params, _ = compile_sql(parse(text).node, datetime.now(UTC), "ana", staff)
        with psycopg.connect(pg_database) as conn:
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM items WHERE {where}".encode(), params))
        if text.startswith("-"):
            continue  # a negation reads most items whatever the plan
        assert "Seq Scan on items" not in plan, (text, plan)


def test_a_full_read_holds_one_copy_of_what_many_rows_share_and_streams_in_index_order(pg: PgStore) -> None:
    """Issue #14: a full read (the TUI's, at 100k items) kept one author object and one channel
    name per row (~45 MB of copies), and sorted every row's text on disk before the first one
    arrived. Rows by one author hold one Author, every row one channel string; the messages are
    equal to those stored; the read is served by items_created_at, in StoreApi's order."""
    stored = [make_message(n) for n in range(40)]
    pg.upsert_messages(stored)
    read = [m for m, _ in pg.every_item()]
    assert read == sorted(stored, key=lambda m: (m.created_at, m.id), reverse=True)
    by_author: dict[str, set[int]] = {}
    for m in read:
        by_author.setdefault(m.author.id, set()).add(id(m.author))
    assert len(by_author) == 7 and all(len(objects) == 1 for objects in by_author.values())
    assert len({id(m.channel) for m in read}) == 1 and len({id(m.channel_type) for m in read}) == 1
    assert all(m.thread_id is m.id for m in read)  # each its conversation's first message
    assert [m.id for m, _ in pg.query()] == [m.id for m in read]
    with pg.db.pool.connection() as conn:  # the plan of the store's own full read
        plan = "\n".join(row[0] for row in _stream(conn, b"EXPLAIN " + EVERY_ITEM.encode(), [], every=True))
        conn.rollback()
    assert "items_created_at" in plan and "Sort" not in plan, plan


def test_step_8_keeps_every_message_and_sees_no_change_in_one_polled_again(pg_database: str) -> None:
    """Schema step 8 turns the stored messages from jsonb into json text (issue #14: printing
    jsonb back as text was most of a full read's server time), with sentiment and lang as
    columns the server computes from it. A database as step 7 left it, with messages and a
    triaged item, migrates with every message and state read back equal; the same messages
    polled again are no change (no edit, no new revision), an edited one is; the sentiment
    and lang filters select from the columns; a restore or import of the same message
    (upsert_rows, compared as jsonb) changes nothing."""
    moods = [(-0.7, "de"), (0.0, "en"), (0.8, "en"), (None, ""), (-0.05, "fr"), (0.3, "de")]
    messages = [
        msgspec.structs.replace(make_message(n, text=f'message {n} ✓ "quoted" \\ {{}}'), sentiment=score, lang=lang)
        for n, (score, lang) in enumerate(moods)
    ]
    with psycopg.connect(pg_database) as conn:
        at_schema(conn, 7, messages)
        assert schema.migrate(conn) == [8]
        conn.commit()
        kind = conn.execute(
            "SELECT data_type FROM information_schema.columns WHERE table_name = 'items' AND column_name = 'message'"
        ).fetchone()
    assert kind == ("json",)
    store = open_store(pg_database)
    try:
        store.act(["masto:2"], SetStatus(Status.DONE), actor="ana")
        assert sorted((m for m, _ in store.every_item()), key=lambda m: m.id) == messages
        assert store.upsert_messages(messages) == [] and store.triage("masto:2").rev == 1
        assert [e.kind for e in store.events()].count(EventKind.EDITED) == 0
        edited = msgspec.structs.replace(messages[3], text="message 3, edited")
        store.upsert_messages([edited])
        assert store.get_message("masto:3") == edited
        assert [e.kind for e in store.events()].count(EventKind.EDITED) == 1
        # sentiment and lang: columns the server computes from the message, as queries read them
        assert sorted(m.id for m, _ in store.query(where=parse("sentiment:negative"))) == ["masto:0", "masto:4"]
        assert sorted(m.id for m, _ in store.query(where=parse("lang:de"))) == ["masto:0", "masto:5"]
        assert [m.id for m, _ in store.query(where=parse("lang:unknown sentiment:unknown"))] == ["masto:3"]
        # A restore or an import of the same message (upsert_rows) is no change either.
        stamp = "SELECT updated_at FROM items WHERE id = 'masto:1'"
        was = store.db.read(lambda c: c.execute(stamp).fetchone())
        assert store.db.run(lambda c: upsert_rows(c, [messages[1]])) == []
        assert store.db.read(lambda c: c.execute(stamp).fetchone()) == was
    finally:
        store.close()
