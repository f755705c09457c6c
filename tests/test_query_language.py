"""The filter language: parsing, the printer round trip, errors with columns, and the
evaluator against the language as it was before the AST (tests/query_oracle.py)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message, TriageState
from cminbox.core.query import And, Node, Not, Or, QueryError, Term, Text, parse, parse_node, to_text
from tests import query_oracle
from tests.query_strategies import ME, NOW, items, nodes, query_strings

# ---------------------------------------------------------------------------- parsing


def test_adjacent_terms_are_anded_and_fields_resolve_aliases() -> None:
    node = parse_node('tag:outage status:new ch:mastodon from:@Alice is:escalated age:<1h "sync down" -tag:spam')
    assert node == And(
        (
            Term("tag", ":", "outage"),
            Term("status", ":", "new"),
            Term("channel", ":", "mastodon"),
            Term("from", ":", "@alice"),
            Term("is", ":", "escalated"),
            Term("age", "<", "1h"),
            Text("sync down"),
            Not(Term("tag", ":", "spam")),
        )
    )


def test_precedence_is_not_then_and_then_or() -> None:
    assert parse_node("a or b c") == Or((Text("a"), And((Text("b"), Text("c")))))
    assert parse_node("a AND b OR not c") == Or((And((Text("a"), Text("b"))), Not(Text("c"))))
    assert parse_node("(a or b) -c") == And((Or((Text("a"), Text("b"))), Not(Text("c"))))
    assert parse_node("not (tag:x or -status:done)") == Not(
        Or((Term("tag", ":", "x"), Not(Term("status", ":", "done"))))
    )
    assert parse_node("((a))") == Text("a")
    assert parse_node("(a b) (c d)") == And((Text("a"), Text("b"), Text("c"), Text("d")))


def test_quotes_make_phrases_and_protect_keywords_and_values() -> None:
    assert parse_node('"sync down"') == Text("sync down")
    assert parse_node("\"or\" 'NOT'") == And((Text("or"), Text("not")))
    assert parse_node('"tag:x"') == Text("tag:x")
    assert parse_node('tag:"big outage"') == Term("tag", ":", "big-outage")  # tags are normalised
    assert parse_node('from:"Alice A"') == Term("from", ":", "alice a")
    assert parse_node(r'"say \"hi\""') == Text('say "hi"')


def test_old_forms_keep_their_meaning() -> None:
    assert parse_node("age:1h") == Term("age", "<", "1h")  # a bare age is "at most"
    assert parse_node("age:>=02d") == Term("age", ">=", "2d")
    assert parse_node("priority:>=HIGH") == Term("priority", ">=", "high")
    assert parse_node("prio:<normal") == Term("priority", "<", "normal")
    assert parse_node("--x") == Not(Text("-x"))
    assert parse_node("-") == Text("-")
    assert parse_node(":)") == Text(":)")  # a smiley at the top level is text
    assert parse_node("Tag:x") == Text("tag:x")  # only lower-case field names are fields
    assert parse_node("tag:#Outage") == Term("tag", ":", "outage")
    assert parse("").empty and parse("   ").empty


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("tag:outage -statsu:new", 13, 'unknown field "statsu" (did you mean "status"?)'),
        ("status:nope", 8, 'status:nope: unknown status "nope" (did you mean "open"?)'),
        ("is:snoozd", 4, 'unknown is: word "snoozd" (did you mean "snoozed"?)'),
        ("priority:hihg", 10, 'unknown priority "hihg" (did you mean "high"?)'),
        ("kind:dirct", 6, 'unknown kind "dirct" (did you mean "direct"?)'),
        ("zzz:1", 1, 'unknown field "zzz"; fields: tag, status'),
        ("a age:1x", 7, "age:1x: write age:<1h"),
        ("x tag:", 7, "tag: needs a value"),
        ("a (b or c", 3, 'unclosed "(" (add ")")'),
        ("a b )", 5, '")" without a matching "("'),
        ('sync "down', 6, 'unclosed quote " (add a closing ")'),
        ("a or", 3, '"or" needs a term on each side'),
        ("or a", 1, '"or" needs a term on each side'),
        ("a and or b", 3, '"and" needs a term on each side'),
        ("a not", 3, '"not" needs a term after it'),
        ("a ()", 3, "empty parentheses"),
        ("(a or )", 4, '"or" needs a term on each side'),
    ],
)
def test_errors_give_the_column_and_a_suggestion(text: str, column: int, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse(text)
    assert caught.value.column == column
    assert str(caught.value).startswith(f"col {column}: ")
    assert message in str(caught.value)
    assert isinstance(caught.value, CminboxError) and isinstance(caught.value, ValueError)


@given(query_strings)
def test_any_text_parses_or_fails_with_a_column_inside_it(text: str) -> None:
    try:
        parse(text)
    except QueryError as exc:
        assert 1 <= exc.column <= len(text) + 1


# ---------------------------------------------------------------------------- the printer


@given(nodes)
@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_print_then_parse_gives_the_same_ast(node: Node) -> None:
    assert parse_node(to_text(node)) == node


@given(query_strings)
@settings(max_examples=500)
def test_printing_a_parsed_query_is_a_fixed_point(text: str) -> None:
    try:
        node = parse_node(text)
    except QueryError:
        return
    printed = to_text(node)
    assert parse_node(printed) == node
    assert to_text(parse_node(printed)) == printed


def test_canonical_text() -> None:
    assert to_text(parse_node("tags:#Bug  ch:x AND (a OR b) NOT prio:>=high")) == (
        "tag:bug channel:x (a or b) -priority:>=high"
    )
    assert to_text(parse_node('"or" -"sync down" - x')) == '"or" -"sync down" "-" x'


# ---------------------------------------------------------------------------- the evaluator

_OLD_PIECES = st.sampled_from(
    [
        "tag:outage",
        "tag:bug",
        "status:open",
        "status:new",
        "is:done",
        "is:mine",
        "is:assigned",
        "is:unassigned",
        "is:snoozed",
        "is:snooze-due",
        "is:replied",
        "is:unreplied",
        "is:direct",
        "age:<1h",
        "age:>2d",
        "age:<=30m",
        "age:3d",
        "priority:high",
        "priority:>=normal",
        "priority:>low",
        "from:@alice",
        "from:bob",
        "from:sync",
        "channel:masto",
        "channel:bluesky",
        "kind:reply",
        "assignee:me",
        "to:bo",
        "sync",
        "SYNC",
        "ünï",
        '"sync down"',
        "A:b",
    ]
)
_old_queries = st.lists(st.tuples(st.booleans(), _OLD_PIECES), max_size=5).map(
    lambda ps: " ".join(("-" if neg else "") + p for neg, p in ps)
)


@given(_old_queries, st.lists(st.integers(0, 10_000).flatmap(items), min_size=1, max_size=20))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_the_evaluator_keeps_the_old_semantics(text: str, rows: list[tuple[Message, TriageState]]) -> None:
    new, old = parse(text), query_oracle.parse(text)
    for m, s in rows:
        assert new.matches(m, s, NOW, ME) == old.matches(m, s, NOW, ME), (text, m, s)


@given(nodes, st.lists(st.integers(0, 10_000).flatmap(items), min_size=1, max_size=10))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_or_and_not_combine_like_boolean_logic(node: Node, rows: list[tuple[Message, TriageState]]) -> None:
    def truth(n: Node, m: Message, s: TriageState) -> bool:
        if isinstance(n, Not):
            return not truth(n.item, m, s)
        if isinstance(n, And):
            return all(truth(i, m, s) for i in n.items)
        if isinstance(n, Or):
            return any(truth(i, m, s) for i in n.items)
        return parse(to_text(n)).matches(m, s, NOW, ME)

    query = parse(to_text(node))
    for m, s in rows:
        assert query.matches(m, s, NOW, ME) == truth(node, m, s)


@given(nodes, st.lists(st.integers(0, 10_000).flatmap(items), min_size=2, max_size=8))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_a_query_that_reads_no_message_answers_alike_for_every_message(
    node: Node, rows: list[tuple[Message, TriageState]]
) -> None:
    """The TUI asks such a query once for all the rows of untriaged items (issue #14): its
    answer for a state must not depend on the message it is given."""
    query = parse(to_text(node))
    if query.uses_message:
        return
    messages = [m for m, _ in rows]
    for _, state in rows:
        assert len({query.matches(m, state, NOW, ME) for m in messages}) == 1, (to_text(node), state)
