"""Hypothesis strategies for the filter language: ASTs in normal form, query strings, items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from cminbox.core.models import Answered, Author, Kind, Message, Priority, Status, TriageState
from cminbox.core.people import Person, identity
from cminbox.core.query import And, Node, Not, Or, Term, Text
from cminbox.core.query.fields import IS_WORDS, KINDS, MOODS, PRIORITIES, STATUSES

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ME = "ana"
WORDS = ["sync", "down", "login", "crash", "export", "ok", "and", "or", "not", "-x", "a:b", "(p)", "é", "Ünï"]
TAGS = ["outage", "bug", "big-outage", "spam"]
CHANNELS = ["masto", "sky", "mastodon", "bluesky"]
HANDLES = ["@alice@a.social", "@bob.bsky.social", "carol", "@@dave", "@Émile"]
PEOPLE = ["ana", "bo", "me"]
# The identities the generated items are written from, and what the people fields ask about.
KEYS = sorted({identity(c, h) for c in ("masto", "sky") for h in HANDLES})
PERSON_TAGS = ["vip", "staff", "troll"]
PERSON_REFS = ["p-0", "p-1", "p-9", "masto:alice@a.social", "sky:carol", "masto:émile", "sky:nobody"]

_text_values = st.sampled_from(WORDS) | st.text(alphabet=st.sampled_from("abcxyz é-:()\"'\\"), min_size=0, max_size=8)
_age = st.builds(lambda n, u: f"{n}{u}", st.integers(0, 500), st.sampled_from("mhdw"))


def terms() -> st.SearchStrategy[Term]:
    comparable = st.sampled_from([":", "<", "<=", ">", ">="])
    return st.one_of(
        st.builds(Term, st.just("tag"), st.just(":"), st.sampled_from(TAGS)),
        st.builds(Term, st.just("status"), st.just(":"), st.sampled_from(STATUSES)),
        st.builds(Term, st.just("channel"), st.just(":"), st.sampled_from(CHANNELS)),
        st.builds(
            Term, st.just("from"), st.just(":"), st.sampled_from(["@alice", "bob", "ca", "@", "émile", "a b", "staff"])
        ),
        st.builds(Term, st.just("is"), st.just(":"), st.sampled_from(IS_WORDS)),
        st.builds(Term, st.just("age"), st.sampled_from(["<", "<=", ">", ">="]), _age),
        st.builds(Term, st.just("priority"), comparable, st.sampled_from(PRIORITIES)),
        st.builds(Term, st.just("kind"), st.just(":"), st.sampled_from(KINDS)),
        st.builds(Term, st.just("assignee"), st.just(":"), st.sampled_from(PEOPLE)),
        st.builds(Term, st.just("sentiment"), st.just(":"), st.sampled_from(MOODS)),
        st.builds(Term, st.just("lang"), st.just(":"), st.sampled_from(["en", "de", "other", "unknown"])),
        st.builds(Term, st.just("author-tag"), st.just(":"), st.sampled_from([*PERSON_TAGS, "press"])),
        st.builds(Term, st.just("person"), st.just(":"), st.sampled_from(PERSON_REFS)),
        st.builds(Term, st.just("answered"), st.just(":"), st.sampled_from(["community", "staff", "none"])),
    )


def leaves() -> st.SearchStrategy[Node]:
    return st.one_of(terms(), st.builds(Text, _text_values.map(str.lower)))


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    lists = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        st.builds(Not, children),
        lists.map(lambda xs: And(tuple(y for x in xs for y in (x.items if isinstance(x, And) else (x,))))),
        lists.map(lambda xs: Or(tuple(y for x in xs for y in (x.items if isinstance(x, Or) else (x,))))),
    )


nodes: st.SearchStrategy[Node] = st.recursive(leaves(), _extend, max_leaves=12)

# Query strings: pieces of the language (valid or not) glued with spaces or not at all.
_PIECES = [
    "tag:outage",
    "tag:Big-Outage",
    'tag:"big outage"',
    "status:open",
    "status:DONE",
    "-status:done",
    "is:mine",
    "is:snoozed",
    "age:<1h",
    "age:90m",
    "priority:>=high",
    "prio:low",
    "from:@alice",
    "ch:masto",
    "to:me",
    "kind:direct",
    "author-tag:VIP",
    "answered:community",
    "answered:Staff",
    "answered:nobody",
    "person:p-0",
    "person:masto:@Alice@a.social",
    "person:nobody",
    "from:staff",
    "sync",
    "Login",
    '"sync down"',
    "'a b'",
    "and",
    "OR",
    "not",
    "-",
    "(",
    ")",
    ":)",
    "-(",
    '"',
    "\\",
    "statsu:new",
    "é",
]
query_strings = st.lists(st.sampled_from(_PIECES), max_size=8).flatmap(
    lambda ps: st.lists(st.sampled_from([" ", "", "  "]), min_size=len(ps), max_size=len(ps)).map(
        lambda seps: "".join(p + s for p, s in zip(ps, seps, strict=True))
    )
)

# Items


@st.composite
def items(draw: st.DrawFn, n: int) -> tuple[Message, TriageState]:
    handle = draw(st.sampled_from(HANDLES))
    created = NOW - timedelta(minutes=draw(st.integers(0, 60 * 24 * 10)), seconds=draw(st.integers(0, 59)))
    words = draw(
        st.lists(st.sampled_from(["sync", "down", "Sync", "LOGIN", "crash", "é", "ÜNÏ", "a:b", "(p)"]), max_size=5)
    )
    channel = draw(st.sampled_from(["masto", "sky"]))
    message = Message(
        id=f"{channel}:{n}",
        channel=channel,
        channel_type="mastodon" if channel == "masto" else "bluesky",
        native_id=str(n),
        kind=draw(st.sampled_from(list(Kind))),
        author=Author(
            id=handle, handle=handle, display_name=draw(st.sampled_from(["", "Alice A", "Bob Sync", "Émile"]))
        ),
        text=" ".join(words),
        created_at=created,
        # The edges of the cut-offs (-0.05, 0.05) included: SQL and Python must agree there.
        sentiment=draw(st.sampled_from([None, -0.9, -0.05, -0.0499, 0.0, 0.0499, 0.05, 0.7])),
        lang=draw(st.sampled_from(["", "en", "de", "other"])),
    )
    snooze = draw(st.one_of(st.none(), st.integers(-600, 600).map(lambda m: NOW + timedelta(minutes=m))))
    state = TriageState(
        id=message.id,
        status=draw(st.sampled_from(list(Status))),
        tags=tuple(draw(st.lists(st.sampled_from(TAGS), max_size=2, unique=True))),
        assignee=draw(st.sampled_from([None, "ana", "bo", ""])),
        priority=draw(st.sampled_from(list(Priority))),
        snoozed_until=snooze,
        first_response_at=draw(st.one_of(st.none(), st.just(created + timedelta(minutes=5)))),
        answered=draw(st.sampled_from([None, "community", "staff"]).map(lambda k: _answer(k, created))),
    )
    return message, state


def _answer(kind: str | None, created: datetime) -> Answered | None:
    """Who answered first (core/community.py): the field answered: reads its kind."""
    if kind is None:
        return None
    at = created + timedelta(minutes=3)
    return Answered(kind=kind, who="masto:mira", handle="@mira", name="Mira", at=at, message_id="masto:x")


stores = st.integers(1, 25).flatmap(lambda k: st.tuples(*(items(i) for i in range(k))))


# People: some of the items' identities grouped into stored persons with profile tags, and
# the configured staff accounts (a few identities, stored or not).
Crowd = tuple[tuple[Person, ...], frozenset[str]]


@st.composite
def crowds(draw: st.DrawFn) -> Crowd:
    keys = draw(st.permutations(KEYS))
    people: list[Person] = []
    at = 0
    for n, size in enumerate(draw(st.lists(st.integers(1, 3), max_size=4))):
        ids = keys[at : at + size]
        at += size
        if ids:
            tags = draw(st.lists(st.sampled_from(PERSON_TAGS), max_size=2, unique=True))
            people.append(Person(id=f"p-{n}", identities=list(ids), tags=tags))
    return tuple(people), frozenset(draw(st.lists(st.sampled_from(KEYS), max_size=2)))
