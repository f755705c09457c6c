"""The query compiled to SQL: values only ever travel as parameters, and on a real PostgreSQL
server the same query selects the same items as the Python evaluator (tests/servers/postgres.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core.models import Message, TriageState
from cminbox.core.people import identity_of
from cminbox.core.query import And, Node, Not, Or, PeopleView, Term, Text, parse, parse_node, to_text
from cminbox.core.query.fields import IS_WORDS, KINDS, PRIORITIES, STATUSES
from cminbox.core.query.sql import ITEMS_DDL, PEOPLE_DDL, compile_sql, like_pattern
from tests.factories import make_message
from tests.query_strategies import CHANNELS, ME, NOW, PERSON_REFS, PERSON_TAGS, TAGS, Crowd, crowds, nodes, stores

HOSTILE = "'; drop table items; --"
# Every kind of term, and its negation (a NULL under NOT is the classic SQL-vs-Python slip).
_ATOMS = [
    *(f"is:{w}" for w in IS_WORDS),
    *(f"status:{s}" for s in STATUSES),
    *(f"priority:{op}{p}" for op in ("", "<", "<=", ">", ">=") for p in PRIORITIES),
    *(f"kind:{k}" for k in KINDS),
    *(f"tag:{t}" for t in TAGS),
    *(f"channel:{c}" for c in CHANNELS),
    *(f"assignee:{a}" for a in ("me", "ana", "bo")),
    "age:<1h",
    "age:<=3d",
    "age:>2d",
    "age:>=90m",
    "from:@alice",
    "from:bob",
    "from:@",
    *(f"sentiment:{m}" for m in ("negative", "neutral", "positive", "unknown")),
    "lang:en",
    "lang:unknown",
    *(f"author-tag:{t}" for t in PERSON_TAGS),
    *(f"person:{r}" for r in PERSON_REFS),
    "from:staff",
    *(f"answered:{a}" for a in ("community", "staff", "none")),
    "sync",
    "A:b",
    "é",
]
ATOM_QUERIES = [n for q in _ATOMS for n in (parse_node(q), parse_node(f"-{q}")) if n is not None]


@pytest.mark.parametrize(
    "node",
    [
        Text(HOSTILE),
        Term("tag", ":", HOSTILE),
        Term("channel", ":", HOSTILE),
        Term("from", ":", HOSTILE),
        Term("assignee", ":", HOSTILE),
        Term("author-tag", ":", HOSTILE),
        Term("person", ":", "masto:" + HOSTILE),
        Term("from", ":", "staff"),
        Not(Or((Text("100%_\\x"), Term("tag", ":", HOSTILE)))),
        And((Term("is", ":", "mine"), Text("%s"))),
    ],
)
def test_values_only_travel_as_parameters(node: Node) -> None:
    where, params, residue = compile_sql(node, NOW, HOSTILE, [HOSTILE])
    assert residue is None
    assert HOSTILE not in where and "drop" not in where and "100%" not in where
    assert where.count("%s") == len(params)
    assert where.replace("%s", "").count("%") == 0  # no stray placeholder for psycopg to misread
    # A value travels as itself, or (free text) as a LIKE pattern with its own % and _ escaped.
    values = (HOSTILE, "100%_\\x", "%s", "masto:" + HOSTILE)
    assert any(p in values or p == [HOSTILE] or p in [like_pattern(v) for v in values] for p in params)


def test_the_residue_holds_what_sql_cannot_say_exactly() -> None:
    node = parse_node("status:open café (from:émile or tag:x) -(sync or ünï)")
    where, params, residue = compile_sql(node, NOW, ME)
    assert where == "status = %s" and params == ["open"]
    assert residue == parse_node("café (from:émile or tag:x) -(sync or ünï)")
    assert compile_sql(None, NOW, ME) == ("TRUE", [], None)
    assert compile_sql(parse_node("café"), NOW, ME) == ("TRUE", [], parse_node("café"))


# ---------------------------------------------------------------------------- PostgreSQL


def _row(m: Message, s: TriageState) -> tuple[Any, ...]:
    return (
        m.id,
        m.channel,
        m.channel_type,
        m.kind.value,
        m.author.handle,
        m.author.display_name,
        m.text,
        m.created_at,
        s.status.value,
        s.priority.rank,
        s.assignee,
        list(s.tags),
        s.snoozed_until,
        s.first_response_at,
        msgspec.json.encode(m).decode(),
        identity_of(m),
        msgspec.json.encode(s).decode(),
    )


@pytest.fixture
def items_db(pg_database: str) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(ITEMS_DDL)
        conn.execute(PEOPLE_DDL)
        yield conn


def _same_on_both(
    conn: Any, rows: tuple[tuple[Message, TriageState], ...], queries: list[Node], crowd: Crowd = ((), frozenset())
) -> None:
    people, staff = crowd
    conn.execute("TRUNCATE items, people, person_identities")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO items VALUES (" + ", ".join(["%s"] * 14) + ", %s::jsonb, %s, %s::jsonb)",
            [_row(m, s) for m, s in rows],
        )
        cur.executemany(
            "INSERT INTO people (id, doc, rev, tags) VALUES (%s, %s::jsonb, %s, %s)",
            [(p.id, msgspec.json.encode(p).decode(), p.rev, p.tags) for p in people],
        )
        cur.executemany(
            "INSERT INTO person_identities (identity, person_id) VALUES (%s, %s)",
            [(key, p.id) for p in people for key in p.identities],
        )
    view = PeopleView.of(people, staff)
    by_id = {m.id: (m, s) for m, s in rows}
    for node in queries:
        query = parse(to_text(node)).bind(view)
        where, params, residue = compile_sql(query.node, NOW, ME, sorted(staff))
        found = {r[0] for r in conn.execute(f"SELECT id FROM items WHERE {where}", params)}
        if residue is not None:
            rest = parse(to_text(residue)).bind(view)
            found = {i for i in found if rest.matches(*by_id[i], NOW, ME)}
        expected = {m.id for m, s in rows if query.matches(m, s, NOW, ME)}
        assert found == expected, (to_text(node), where, params)


@pytest.mark.servers
@given(stores, st.lists(nodes, min_size=1, max_size=5), crowds())
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_sql_and_python_select_the_same_items(
    items_db: Any, rows: tuple[tuple[Message, TriageState], ...], queries: list[Node], crowd: Crowd
) -> None:
    _same_on_both(items_db, rows, queries + ATOM_QUERIES, crowd)


@pytest.mark.servers
def test_hostile_values_are_data_on_the_server(items_db: Any) -> None:
    texts = ["100%_\\x done", "'; drop table items; --", "plain", "50% off", "under_score"]
    rows = tuple(
        (make_message(n, text=t), TriageState(id=f"masto:{n}", tags=("%",) if n % 2 else ()))
        for n, t in enumerate(texts)
    )
    queries = [parse_node(q) for q in ('"\'; drop table items; --"', "tag:'%'", '"100%_\\\\x"', "from:_", "%")]
    _same_on_both(items_db, rows, [q for q in queries if q is not None])
    assert items_db.execute("SELECT count(*) FROM items").fetchone() == (5,)
