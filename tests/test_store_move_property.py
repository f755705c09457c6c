"""Property: a complete export (`export --all`) imported into an empty store of the other backend
exports identically, for generated stores (actions and undos, archive, outbox states, drafts,
cursors), in both directions, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core import portable, triage
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.store import Store
from cminbox.core.store_api import StoreApi
from cminbox.core.store_move import digest
from tests.factories import make_message
from tests.pg_helpers import open_store as open_pg
from tests.servers.postgres import fresh_database

START = datetime(2026, 3, 1, tzinfo=UTC)
ACTIONS = [
    triage.AddTags(("billing",)),
    triage.AddTags(("bug", "urgent")),
    triage.SetStatus(Status.DONE),
    triage.SetStatus(Status.OPEN),
    triage.Assign("ana"),
]

ops = st.fixed_dictionaries(
    {
        "n": st.integers(1, 12),
        "actions": st.lists(
            st.tuples(st.integers(0, 11), st.integers(0, len(ACTIONS) - 1), st.sampled_from(["ana", "ben"])),
            max_size=12,
        ),
        "undos": st.lists(st.sampled_from(["ana", "ben"]), max_size=3),
        "archive": st.booleans(),
        "replies": st.lists(st.sampled_from(["pending", "sent", "failed", "retry"]), max_size=4),
        "drafts": st.dictionaries(st.integers(0, 11), st.text(min_size=1, max_size=8).filter(str.strip), max_size=2),
        "cursors": st.dictionaries(st.sampled_from(["masto", "forum"]), st.integers(0, 99), max_size=2),
    }
)


def build(store: StoreApi, clock: FrozenClock, plan: dict[str, Any]) -> None:
    n = plan["n"]
    store.upsert_messages(make_message(i, at=START + timedelta(hours=i)) for i in range(n))
    for idx, action, actor in plan["actions"]:
        clock.advance(minutes=1)
        store.act([f"masto:{idx % n}"], ACTIONS[action], actor=actor)
    for actor in plan["undos"]:
        store.undo(actor)
    if plan["archive"]:
        clock.advance(days=200)
        store.archive(timedelta(days=100))
    outbox = store.outbox
    live = store.message_ids() or ["masto:0"]
    for k, state in enumerate(plan["replies"]):
        [item] = outbox.enqueue_many(OutboxKind.REPLY, [(live[k % len(live)], "masto", {"text": f"r{k}"})], "ana")
        if state == "pending":
            continue
        [claimed] = [c for c in outbox.claim_due(limit=10) if c.id == item.id]
        if state == "sent":
            outbox.mark_sent(claimed, {"native_id": f"n{k}"})
        else:
            outbox.mark_failed(claimed, "no", permanent=state == "failed")
    for idx, text in plan["drafts"].items():
        store.set_draft(f"masto:{idx % n}", text)
    for channel, since in plan["cursors"].items():
        store.set_cursor(channel, {"since": since})


def drop(server: str, dsn: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dsn.rsplit("/")[-1])))


@pytest.mark.parametrize("direction", ["tinydb->postgresql", "postgresql->tinydb"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=ops)
def test_export_all_import_into_the_other_backend_exports_the_same(
    direction: str,
    plan: dict[str, Any],
    postgres_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    clock = FrozenClock(START + timedelta(days=30))

    dsn = fresh_database(postgres_server)

    def pg() -> StoreApi:
        return open_pg(dsn, clock=clock)

    def tiny(name: str) -> StoreApi:
        return Store(folder / name, clock=clock, durable=False)

    source, target = (tiny("src"), pg()) if direction.startswith("tinydb") else (pg(), tiny("dst"))
    try:
        build(source, clock, plan)
        out = Path(folder / "all.jsonl")
        with out.open("wb") as handle:
            portable.write_jsonl(portable.everything(source), handle)
        portable.import_records(target, out)
        assert digest(target) == digest(source)
    finally:
        source.close()
        target.close()
        drop(postgres_server, dsn)
