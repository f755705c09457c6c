"""The query on the store: the index planner gives the same items as evaluating every item,
and ``cminbox list`` (--query, --archived, --explain) goes through that one path."""

from __future__ import annotations

import json
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from cminbox.cli import main
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message, Status, TriageState
from cminbox.core.query import Node, PeopleView, parse, to_text
from cminbox.core.query.plan import plan
from cminbox.core.store import Store
from cminbox.core.triage import AddTags, SetStatus
from tests.factories import make_message
from tests.query_strategies import ME, NOW, Crowd, crowds, nodes, stores


def _store(folder: Path, rows: tuple[tuple[Message, TriageState], ...]) -> Store:
    store = Store(folder, clock=FrozenClock(NOW), durable=False)
    store.upsert_messages([m for m, _ in rows])
    store.put_triage([s for _, s in rows if s != TriageState(id=s.id)], keep_newer=False)
    return store


@given(nodes, stores, crowds())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_planner_gives_the_same_items_as_evaluating_every_item(
    node: Node, rows: tuple[tuple[Message, TriageState], ...], crowd: Crowd
) -> None:
    people, staff = crowd
    query = parse(to_text(node))
    with tempfile.TemporaryDirectory() as folder:
        store = _store(Path(folder), rows)
        store.write_people(people, actor="ana", label="people")
        bound = query.bind(PeopleView.of(store.people(), staff))
        every = [m.id for m, s in store.query() if bound.matches(m, s, NOW, ME)]
        assert [m.id for m, _ in store.query(where=query, me=ME, staff=staff)] == every
        assert [m.id for m, _ in store.query(where=query, me=ME, limit=2, staff=staff)] == every[:2]


def test_the_planner_uses_the_indexes_for_status_tag_and_channel(tmp_path: Path, clock: FrozenClock) -> None:
    store = Store(tmp_path, clock=clock, durable=False)
    store.upsert_messages([make_message(n) for n in range(10)] + [make_message(n, channel="sky") for n in range(3)])
    store.act(["masto:1", "masto:2", "masto:3"], SetStatus(Status.OPEN), actor="ana")
    store.act(["masto:2", "masto:3", "masto:4"], AddTags(("outage",)), actor="ana")
    planned = plan(parse("status:open tag:outage number").node, store.ix)
    assert planned.candidates == {"masto:2", "masto:3"}
    assert planned.residue == parse("number").node
    planned = plan(parse("(tag:outage or status:open) -status:done").node, store.ix)
    assert planned.candidates == {"masto:1", "masto:2", "masto:3", "masto:4"}
    assert planned.residue == parse("-status:done").node
    # channel: a channel's name or its type; the index narrows, the item is checked
    planned = plan(parse("channel:mastodon").node, store.ix)
    assert planned.candidates is not None and len(planned.candidates) == 13
    assert planned.residue == parse("channel:mastodon").node
    assert plan(parse("sync or tag:x").node, store.ix).candidates is None
    ids = [m.id for m, _ in store.query(where=parse("status:open tag:outage"))]
    assert ids == ["masto:2", "masto:3"]


# ---------------------------------------------------------------------------- the CLI


def _cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text("")
    code = main(["--config", str(cfg), "--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    return code, out + err


@pytest.fixture
def filled(tmp_path: Path, clock: FrozenClock) -> Store:
    store = Store(tmp_path / "data", clock=clock)
    store.upsert_messages(
        [make_message(1, text="sync is down"), make_message(2, text="login broken"), make_message(3, text="sync ok")]
    )
    store.act(["masto:1", "masto:3"], AddTags(("outage",)), actor="ana")
    store.act(["masto:3"], SetStatus(Status.DONE), actor="ana")
    clock.advance(days=200)
    assert store.archive(timedelta(days=90)) == ["masto:3"]
    return store


def test_list_query_with_or_and_not(tmp_path: Path, capsys: pytest.CaptureFixture[str], filled: Store) -> None:
    code, out = _cli(tmp_path, capsys, "list", "--json", "--query", "(sync or login) -tag:outage")
    assert code == 0 and [r["id"] for r in json.loads(out)] == ["masto:2"]


def test_list_archived_applies_the_same_query_to_archived_items(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], filled: Store
) -> None:
    code, out = _cli(tmp_path, capsys, "list", "--json", "--archived", "--tag", "OUTAGE", "--query", "sync")
    rows = json.loads(out)
    assert code == 0 and [(r["id"], r["archived"]) for r in rows] == [("masto:1", False), ("masto:3", True)]
    code, out = _cli(tmp_path, capsys, "list", "--json", "--archived", "--status", "done")
    assert [r["id"] for r in json.loads(out)] == ["masto:3"]
    code, out = _cli(tmp_path, capsys, "list", "--json", "--archived", "--channel", "mastodon", "--query=-sync")
    assert [r["id"] for r in json.loads(out)] == ["masto:2"]


def test_list_query_error_gives_the_column(tmp_path: Path, capsys: pytest.CaptureFixture[str], filled: Store) -> None:
    code, out = _cli(tmp_path, capsys, "list", "--query", "sync statsu:new")
    assert code != 0
    assert '--query: col 6: unknown field "statsu" (did you mean "status"?)' in out


def test_list_explain_says_what_runs_where(tmp_path: Path, capsys: pytest.CaptureFixture[str], filled: Store) -> None:
    code, out = _cli(tmp_path, capsys, "list", "--explain", "--status", "open", "--query", "(sync or tag:x) café")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "query: status:open (sync or tag:x) café"
    tinydb = lines[lines.index("TinyDB store (in-memory indexes):") + 1 :][:3]
    assert "index" in tinydb[0] and "per item" in tinydb[1] and "per item" in tinydb[2]
    pg = lines[lines.index("PostgreSQL store:") + 1 :][:3]
    assert "SQL: status = %s" in pg[0] and "SQL: ((lower(text) LIKE" in pg[1] and "Python" in pg[2]
    assert "then in Python: café" in out
    assert "masto:" not in out  # explains, lists nothing
