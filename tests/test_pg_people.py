"""People on a real PostgreSQL: schema step 6 on a database that already holds items (the
identity key backfilled, as Python computes it, also for non-ASCII handles), the tables the
query compiler names, and two instances creating a record for one identity at once."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import msgspec
import psycopg
import pytest

from cminbox.core.models import Author
from cminbox.core.people import Person, identity_of, new_id
from cminbox.core.pg import schema
from cminbox.core.pg.store import PgStore
from cminbox.core.query import parse
from cminbox.core.query.sql import PEOPLE_DDL, compile_sql
from cminbox.core.store_api import StoreError
from tests.factories import make_message
from tests.pg_helpers import at_schema, open_store

pytestmark = pytest.mark.servers

ODD = [("@Straße@Example.Social", "masto:strasse@example.social"), ("\u00a0@Ünï ", "masto:ünï")]


@pytest.fixture
def pg(pg_database: str) -> Iterator[PgStore]:
    store = open_store(pg_database)
    yield store
    store.close()


def test_step_6_backfills_the_identity_key_as_python_computes_it(pg_database: str) -> None:
    messages = [make_message(n) for n in range(5)] + [
        msgspec.structs.replace(make_message(10 + i), author=Author(id=h, handle=h, display_name="x"))
        for i, (h, _) in enumerate(ODD)
    ]
    with psycopg.connect(pg_database) as conn:  # a database at schema 5, with items, as the last version left it
        at_schema(conn, 5, messages)
        assert schema.migrate(conn) == list(range(6, schema.VERSION + 1))  # 6, and the steps after it
        conn.commit()
        got: dict[str, str] = dict(conn.execute("SELECT id, author_identity FROM items").fetchall())
    assert got == {m.id: identity_of(m) for m in messages}
    assert [got["masto:10"], got["masto:11"]] == [key for _, key in ODD]


def test_the_people_tables_have_what_the_query_compiler_names(pg: PgStore) -> None:
    wanted = dict(re.findall(r"^\s+([a-z_]+)\s+(text|bigint|jsonb)\b(?!\[)", PEOPLE_DDL, re.MULTILINE))
    have = dict(
        pg.db.read(
            lambda c: c.execute(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name IN ('people', 'person_identities')"
            ).fetchall()
        )
    )
    assert wanted and wanted.items() <= have.items() and have["tags"] == "ARRAY"
    pg.upsert_messages([make_message(1)])  # new rows carry the key, computed in Python
    assert pg.authors() and set(pg.authors()) == {identity_of(make_message(1))}


def test_two_instances_creating_a_record_for_one_identity_at_once_keep_one(pg_database: str) -> None:
    """The first has inserted the identity's row and not committed; the second waits on the
    primary key, then is refused once the first commits (never two people for one identity)."""
    key = "masto:priya"
    store = open_store(pg_database)
    first = psycopg.connect(pg_database)
    try:
        first.execute("INSERT INTO people (id, doc, rev) VALUES ('p-1', '{\"id\": \"p-1\"}', 1)")
        first.execute("INSERT INTO person_identities (identity, person_id) VALUES (%s, 'p-1')", (key,))
        outcome: list[object] = []

        def second() -> None:
            try:
                outcome.append(store.write_people([Person(id=new_id(), identities=[key])], actor="bob", label="x"))
            except StoreError as exc:
                outcome.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waiting on the first's uncommitted row
        first.commit()
        thread.join(10)
        [refused] = outcome
        assert isinstance(refused, StoreError) and "meanwhile" in str(refused)
        found = store.person(key)
        assert found is not None and found.id == "p-1"
        assert [e.kind for e in store.events()] == []  # the refused step left no event
    finally:
        first.close()
        store.close()


def test_the_people_fields_run_in_sql(pg: PgStore) -> None:
    pg.upsert_messages([make_message(n) for n in range(7)])
    [p] = pg.write_people(
        [Person(id=new_id(), identities=["masto:user1@example.social"], tags=["vip"])], actor="ana", label="tag vip"
    )
    for text in ("author-tag:vip", f"person:{p.id}", "from:staff", "-person:masto:user2@example.social"):
        _, _, residue = compile_sql(parse(text).node, pg.clock(), "ana", ["masto:user3@example.social"])
        assert residue is None, text
    assert [m.id for m, _ in pg.query(where=parse("author-tag:vip"))] == ["masto:1"]


def test_the_identities_follow_every_change_whoever_writes_it(pg_database: str) -> None:
    """identities() is kept while the change feed's newest position stands (the author card
    asks for it each time: a DISTINCT over every item); a new author stored by another
    instance, or an author's last item archived away, shows at the next call."""
    from datetime import timedelta

    from cminbox.core.models import Status
    from cminbox.core.triage import SetStatus

    ours, theirs = open_store(pg_database), open_store(pg_database)
    first, second = make_message(1), make_message(2)
    try:
        ours.upsert_messages([first])
        assert ours.identities() == frozenset({identity_of(first)})
        distinct: list[str] = []
        real_read = ours.db.read

        def noting(work):  # type: ignore[no-untyped-def]
            def traced(conn):  # type: ignore[no-untyped-def]
                execute = conn.execute

                def noted(query, *args, **kwargs):  # type: ignore[no-untyped-def]
                    if "DISTINCT" in str(query):
                        distinct.append(str(query))
                    return execute(query, *args, **kwargs)

                conn.execute = noted
                try:
                    return work(conn)
                finally:
                    del conn.execute

            return real_read(traced)

        ours.db.read = noting  # type: ignore[method-assign]
        assert ours.identities() == frozenset({identity_of(first)})
        assert distinct == []  # nothing changed: not read again
        theirs.upsert_messages([second])
        assert ours.identities() == frozenset({identity_of(first), identity_of(second)})
        theirs.act([first.id], SetStatus(Status.DONE), actor="ana")
        assert theirs.archive(timedelta(0)) == [first.id]
        assert ours.identities() == frozenset({identity_of(second)})
        assert len(distinct) == 2
    finally:
        ours.close()
        theirs.close()
