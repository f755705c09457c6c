"""The query AST compiled to a PostgreSQL WHERE clause over the ``items`` table.

Values only ever travel as psycopg ``%s`` parameters, never in the SQL text. Every fragment
is NULL-free (a NULL under NOT would drop rows Python keeps), so NOT is plain ``NOT (...)``.

What stays in Python (the residue): free text and ``from:`` whose value is not ASCII.
PostgreSQL's ``lower()`` follows the database's ctype (under the C locale it lowers ASCII
only) while Python's ``str.lower`` uses Unicode's full mapping, so a non-ASCII needle could
match differently; those are evaluated per row in Python instead. (An ASCII needle against
non-ASCII text agrees too, except for the few characters whose lower case is ASCII in one
and not the other, such as the Kelvin sign under a C ctype: the tests use C.UTF-8.)
A NOT or OR with any Python part goes to Python whole; an AND splits (SQL narrows, Python
checks the rest), so ``where`` always selects a superset of the answer.

The people fields (``author-tag:``, ``person:``, ``from:staff``) are subqueries on the
``people`` and ``person_identities`` tables, joined on the item's ``author_identity``: the
identity key (core.people.identity) computed in Python when the row is written, because
SQL's ``lower()`` and Python's ``casefold()`` disagree outside ASCII. The configured staff
accounts are not in the database; they travel as one array parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

from cminbox.core.models import Kind, Priority
from cminbox.core.query.context import STAFF, is_people_term
from cminbox.core.query.evaluate import age_limit
from cminbox.core.query.fields import STATUSES
from cminbox.core.query.nodes import And, Node, Not, Term, Text, all_of
from cminbox.core.rule_lines import UNDO, actor_of
from cminbox.core.sentiment import NEGATIVE_AT, POSITIVE_AT

ITEMS_TABLE = "items"
ITEMS_DDL = """\
CREATE TABLE IF NOT EXISTS items (
    id                text PRIMARY KEY,        -- Message.id, "<channel>:<native id>"
    channel           text NOT NULL,           -- Message.channel (the configured channel name)
    channel_type      text NOT NULL,           -- Message.channel_type ("mastodon", "github", ...)
    kind              text NOT NULL,           -- Message.kind (models.Kind values)
    author_handle     text NOT NULL,           -- Message.author.handle
    author_name       text NOT NULL DEFAULT '',-- Message.author.display_name
    text              text NOT NULL,           -- Message.text
    created_at        timestamptz NOT NULL,    -- Message.created_at
    status            text NOT NULL DEFAULT 'new',  -- TriageState.status (models.Status values)
    priority_rank     int NOT NULL DEFAULT 1,  -- TriageState.priority.rank (low 0 .. urgent 3)
    assignee          text NULL,               -- TriageState.assignee
    tags              text[] NOT NULL DEFAULT '{}',  -- TriageState.tags (normalised, no NULLs)
    snoozed_until     timestamptz NULL,        -- TriageState.snoozed_until
    first_response_at timestamptz NULL,        -- TriageState.first_response_at
    message           json NOT NULL DEFAULT '{}',  -- the Message whole, as written
    author_identity   text NOT NULL DEFAULT '', -- core.people.identity_of(Message)
    triage            jsonb NULL,              -- the TriageState whole (answered: is read from it)
    -- computed by the server from the message (schema step 8), last as ADD COLUMN puts them
    sentiment         float8 GENERATED ALWAYS AS ((message->>'sentiment')::float8) STORED,  -- Message.sentiment
    lang              text NOT NULL GENERATED ALWAYS AS (coalesce(message->>'lang', '')) STORED  -- Message.lang
)"""
"""The table the PostgreSQL backend keeps and :func:`compile_sql` queries (one row per item)."""
PEOPLE_DDL = """\
CREATE TABLE IF NOT EXISTS people (
    id    text PRIMARY KEY,                    -- Person.id ("p-...")
    doc   jsonb NOT NULL,                      -- the Person whole
    rev   bigint NOT NULL,                     -- Person.rev
    tags  text[] NOT NULL DEFAULT '{}'         -- Person.tags (stored ones: staff may be implied)
);
CREATE TABLE IF NOT EXISTS person_identities (
    identity   text PRIMARY KEY,               -- one of Person.identities: an identity belongs to one person
    person_id  text NOT NULL REFERENCES people (id) ON DELETE CASCADE
)"""
"""The people tables the people fields read (schema step 6 of the PostgreSQL backend)."""

Param: TypeAlias = str | int | datetime | list[str]
_RANK_OPS = {":": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
# LIKE, not strpos(): pg_trgm's GIN indexes on lower(column) answer `LIKE '%word%'` (the
# backend creates them where it can), where strpos() always scans every row.
_TEXT_SQL = (
    "(lower(text) LIKE %s ESCAPE '\\' OR lower(author_handle) LIKE %s ESCAPE '\\'"
    " OR lower(author_name) LIKE %s ESCAPE '\\')"
)


# The score (set at ingest) as the server keeps it from the message; the cut-offs are sentiment.py's.
_SCORE = "sentiment"
_SENTIMENT_SQL = {
    "negative": f"coalesce({_SCORE} <= {NEGATIVE_AT}, false)",
    "positive": f"coalesce({_SCORE} >= {POSITIVE_AT}, false)",
    "neutral": f"coalesce({_SCORE} > {NEGATIVE_AT} AND {_SCORE} < {POSITIVE_AT}, false)",
    "unknown": f"({_SCORE} IS NULL)",
}


# Each people field is one IN over a set of identities the server computes once: "= x OR
# EXISTS/IN (…)" made PostgreSQL scan every item (the author card at 100k items: 45 -> 1 ms).
# The author's person (through the identity they wrote from) has a stored tag.
_AUTHOR_TAGGED = (
    "items.author_identity IN (SELECT pi.identity FROM person_identities pi"
    " JOIN people p ON p.id = pi.person_id WHERE %s = ANY(p.tags))"
)
# The author is tagged staff, is a configured staff account, or is linked to one.
_AUTHOR_STAFF = (
    "items.author_identity IN (SELECT pi.identity FROM person_identities pi"
    " JOIN people p ON p.id = pi.person_id WHERE %s = ANY(p.tags)"
    " UNION SELECT unnest(%s::text[]) UNION SELECT pi.identity FROM person_identities pi"
    " JOIN person_identities other ON other.person_id = pi.person_id WHERE other.identity = ANY(%s::text[]))"
)
# The history lives in the event log on PostgreSQL: the rule's effect lines on the item
# outnumber the lines that took one of them back (each undo pairs with one effect of the same
# words, rule_lines.open_effects; the count is the same answer without walking them in order).
_RULE_OPEN = (
    "(SELECT count(*) FILTER (WHERE e.actor = %s AND starts_with(e.label, %s))"
    " - count(*) FILTER (WHERE starts_with(e.label, %s)) FROM events e WHERE e.message_id = items.id) > 0"
)
_PERSON_BY_ID = "items.author_identity IN (SELECT identity FROM person_identities WHERE person_id = %s)"
_PERSON_BY_IDENTITY = (
    "items.author_identity IN (SELECT %s::text UNION SELECT other.identity FROM person_identities pi"
    " JOIN person_identities other ON other.person_id = pi.person_id WHERE pi.identity = %s)"
)


def people_sql(term: Term, staff: Sequence[str]) -> tuple[str, list[Param]]:
    """SQL for a people term (context.is_people_term); ``staff``: the configured staff identities."""
    if term.field == "person":
        if ":" in term.value:
            return _PERSON_BY_IDENTITY, [term.value, term.value]
        return _PERSON_BY_ID, [term.value]
    tag = STAFF if term.field == "from" else term.value
    if tag != STAFF:
        return _AUTHOR_TAGGED, [tag]
    keys = sorted(staff)
    return _AUTHOR_STAFF, [STAFF, keys, keys]


def like_pattern(needle: str) -> str:
    """``needle`` anywhere, as a LIKE pattern: its own ``%``, ``_`` and ``\\`` are literal."""
    return "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def in_sql(node: Node) -> bool:
    """Can ``node`` run entirely in SQL?"""
    if isinstance(node, Text):
        return node.phrase.isascii()
    if isinstance(node, Term):
        return node.field != "from" or node.value.isascii()
    if isinstance(node, Not):
        return in_sql(node.item)
    return all(in_sql(i) for i in node.items)


# Who answered first lives in the triage document (schema step 7 indexes its kind). Written
# NULL-free and still indexable: NULL AND false is false.
_ANSWERED_KIND = "(triage->'answered'->>'kind')"


def answered_sql(value: str) -> tuple[str, list[Param]]:
    if value == "none":
        return f"{_ANSWERED_KIND} IS NULL", []
    return f"({_ANSWERED_KIND} = %s AND {_ANSWERED_KIND} IS NOT NULL)", [value]


def term_sql(term: Term, now: datetime, me: str, staff: Sequence[str] = ()) -> tuple[str, list[Param]]:
    field, op, v = term.field, term.op, term.value
    if is_people_term(term):
        return people_sql(term, staff)
    if field == "tag":
        return "%s = ANY(tags)", [v]
    if field == "status" or (field == "is" and v in STATUSES):
        return "status = %s", [v]
    if field == "channel":
        return "(channel = %s OR channel_type = %s)", [v, v]
    if field == "from":
        want = v.lstrip("@")
        return "(starts_with(lower(ltrim(author_handle, '@')), %s) OR strpos(lower(author_name), %s) > 0)", [want, want]
    if field == "kind":
        return "kind = %s", [v]
    if field == "assignee":
        return "coalesce(assignee, '') = %s", [me if v == "me" else v]
    if field == "age":
        edge = now - age_limit(v)
        return ("created_at >= %s", [edge]) if op.startswith("<") else ("created_at <= %s", [edge])
    if field == "priority":
        return f"priority_rank {_RANK_OPS[op]} %s", [Priority(v).rank]
    if field == "sentiment":
        return _SENTIMENT_SQL[v], []
    if field == "lang":
        return "lang = %s", ["" if v == "unknown" else v]
    if field == "rule":
        actor = actor_of(v)
        return _RULE_OPEN, [actor, f"{actor}: ", f"{UNDO}{actor}: "]
    if field == "answered":
        return answered_sql(v)
    assert field == "is"
    table: dict[str, tuple[str, list[Param]]] = {
        "mine": ("coalesce(assignee = %s, false)", [me]),
        "assigned": ("assignee IS NOT NULL", []),
        "unassigned": ("assignee IS NULL", []),
        "snoozed": ("coalesce(snoozed_until > %s, false)", [now]),
        "snooze-due": ("coalesce(snoozed_until <= %s, false)", [now]),
        "replied": ("first_response_at IS NOT NULL", []),
        "unreplied": ("first_response_at IS NULL", []),
        "direct": ("kind = %s", [Kind.DIRECT.value]),
    }
    return table[v]


def node_sql(node: Node, now: datetime, me: str, staff: Sequence[str] = ()) -> tuple[str, list[Param]]:
    """SQL for a node that :func:`in_sql` accepts."""
    if isinstance(node, Text):
        return _TEXT_SQL, [like_pattern(node.phrase)] * 3
    if isinstance(node, Term):
        return term_sql(node, now, me, staff)
    if isinstance(node, Not):
        sql, params = node_sql(node.item, now, me, staff)
        return f"NOT {sql}" if sql.startswith("(") else f"NOT ({sql})", params
    joiner = " AND " if isinstance(node, And) else " OR "
    parts: list[str] = []
    params = []
    for item in node.items:
        sql, more = node_sql(item, now, me, staff)
        parts.append(sql)
        params.extend(more)
    return "(" + joiner.join(parts) + ")", params


def compile_sql(
    node: Node | None, now: datetime, me: str, staff: Sequence[str] = ()
) -> tuple[str, list[Param], Node | None]:
    """``(where_sql, params, python_residue)``: rows matching ``where_sql`` (``%s`` placeholders,
    values in ``params``) and then the residue (evaluated in Python; None if nothing is left)
    are exactly the items ``node`` matches. ``staff``: the configured staff identity keys."""
    if node is None:
        return "TRUE", [], None
    parts = node.items if isinstance(node, And) else (node,)
    sql_parts: list[str] = []
    params: list[Param] = []
    residue: list[Node] = []
    for part in parts:
        if in_sql(part):
            sql, more = node_sql(part, now, me, staff)
            sql_parts.append(sql)
            params.extend(more)
        else:
            residue.append(part)
    return (" AND ".join(sql_parts) or "TRUE"), params, all_of(residue)
