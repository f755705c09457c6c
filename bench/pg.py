"""The PostgreSQL team store at 100k items, on a throwaway local server with fsync on.

    make bench                                  # runs this when the server binaries exist
    .venv/bin/python bench/pg.py --sizes 100000 --actions 500

Starts its own cluster (initdb into a temp dir, fsync=on: a commit is on disk before an
action returns), fills a database through the store's own upsert, then measures:
a triage action (one item, committed, with its event and undo record) p50/p99; opening the
store plus the first page of the inbox; an indexed query and a free-text query. Says so and
exits 0 when the PostgreSQL binaries or psycopg are missing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import make
from cminbox.core.config import StoreConfig
from cminbox.core.models import Status
from cminbox.core.people import Person, new_id
from cminbox.core.pg.connection import PsycopgMissingError, require_psycopg
from cminbox.core.query import parse
from cminbox.core.triage import AddTags, RemoveTags, SetStatus
from tests.servers.pg_cluster import Cluster, server_binaries

if TYPE_CHECKING:  # psycopg is imported only once it is known to be there
    from cminbox.core.pg.store import PgStore


def _ms(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def _change_seen(cfg: StoreConfig, store: PgStore, sample: list[str]) -> tuple[float, float]:
    """From the start of an action in one instance to its id in another's refresh(), woken by
    NOTIFY (LISTEN on its own connection: no polling)."""
    from cminbox.core.pg.open import open_postgres_store

    other = open_postgres_store(cfg, instance="bench:3:cc")
    other.refresh()
    lags: list[float] = []
    for mid in sample:
        other.wait_for_change(0)  # drain what earlier steps announced
        other.refresh()
        t = time.perf_counter()
        store.act([mid], AddTags(("seen",)), actor="ana")
        while mid not in other.refresh():
            other.wait_for_change(5)
        lags.append(time.perf_counter() - t)
    other.close()
    ordered = sorted(lags)
    return statistics.median(ordered) * 1000, ordered[round(0.95 * (len(ordered) - 1))] * 1000


def run(cluster: Cluster, size: int, actions: int) -> list[tuple[str, str]]:
    from cminbox.core.pg.open import open_postgres_store

    cfg = StoreConfig(backend="postgresql", dsn=cluster.create_database(f"bench{size}"))
    store = open_postgres_store(cfg, instance="bench:1:aa")
    rng = random.Random(size)
    t0 = datetime(2026, 11, 27, tzinfo=UTC)
    started = time.perf_counter()
    for start in range(0, size, 5000):
        store.upsert_messages([make(i, rng, t0) for i in range(start, min(size, start + 5000))])
    fill = time.perf_counter() - started
    ids = [f"bench:{i}" for i in range(size)]
    for i in range(0, size, 10):  # some items carry a tag, as in a real inbox
        store.act([ids[i]], AddTags(("bug",)), actor="seed", undoable=False)
    # 20 of the 500 authors are tagged vip (the people fields: subqueries on the people tables)
    vips = [Person(id=new_id(), identities=[f"bench:user{u}@example.social"], tags=["vip"]) for u in range(0, 500, 25)]
    store.write_people(vips, actor="seed", label="tag vip")
    store.db.run(lambda c: c.execute("ANALYZE items, people, person_identities"))
    store.close()

    started = time.perf_counter()
    store = open_postgres_store(cfg, instance="bench:2:bb")
    first_page = store.query(status=Status.NEW, limit=200)
    opened = time.perf_counter() - started
    assert len(first_page) == 200

    durations: list[float] = []
    for n in range(actions):
        mid = rng.choice(ids)
        action = (AddTags(("vip",)), RemoveTags(("vip",)), SetStatus(Status.OPEN))[n % 3]
        t = time.perf_counter()
        store.act([mid], action, actor="ana")
        durations.append(time.perf_counter() - t)
    p50, p99 = _ms(durations)

    seen = _change_seen(cfg, store, rng.sample(ids, 200))
    queries = {}
    for label, text in (
        ("indexed query", "tag:bug status:new"),
        ("free-text query", '"outage refund"'),
        ("people query", "author-tag:vip status:new"),
    ):
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            store.query(where=parse(text), limit=500)
            runs.append(time.perf_counter() - t)
        queries[label] = f"{statistics.median(runs) * 1000:.1f} ms"
    plain, ruled, changed = _rules_cost(store, size, rng)
    store.close()
    return [
        ("items", f"{size:,}"),
        ("fill through upsert", f"{fill:.1f} s"),
        ("open + first page (200)", f"{opened * 1000:.0f} ms"),
        (f"triage action p50 / p99 ({actions} committed)", f"{p50:.2f} ms / {p99:.2f} ms"),
        ("change seen by a second instance p50 / p95", f"{seen[0]:.1f} ms / {seen[1]:.1f} ms"),
        *queries.items(),
        ("ingest 100: no rules / 50 rules (bench/rules.py)", f"{plain:.1f} ms / {ruled:.1f} ms"),
        ("  items changed by the rules, per batch", f"{changed:.0f}"),
    ]


def _rules_cost(store: PgStore, size: int, rng: random.Random, batches: int = 9) -> tuple[float, float, float]:
    """Median ingest of 100 new items without rules and with bench/rules.py's typical 50 (the
    rules run inside the same transaction), batches interleaved; and the items they changed."""
    from bench.rules import BASE, rules_text
    from cminbox.core import config
    from cminbox.core.clock import system_clock
    from cminbox.core.rules_run import RuleRunner

    runner = RuleRunner(config.parse(BASE + rules_text(50, random.Random(3), words=3)), store, system_clock)
    now = datetime.now(UTC)
    fresh = iter([make(size + 1000 * b + i, rng, now) for i in range(100)] for b in range(2 * batches))
    plain: list[float] = []
    ruled: list[float] = []
    changed: list[int] = []
    for _ in range(batches):
        batch = next(fresh)
        t = time.perf_counter()
        store.upsert_messages(batch)
        plain.append(time.perf_counter() - t)
        batch = next(fresh)
        t = time.perf_counter()
        effects = runner.ingest(batch).outcome.planned.effects
        ruled.append(time.perf_counter() - t)
        changed.append(len({e.message_id for e in effects}))
    return statistics.median(plain) * 1000, statistics.median(ruled) * 1000, statistics.median(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--actions", type=int, default=500)
    args = parser.parse_args()
    binaries = server_binaries()
    if binaries is None:
        print("PostgreSQL bench skipped: no server binaries (install postgresql, or set CMINBOX_PG_BIN)")
        return
    try:
        require_psycopg()
    except PsycopgMissingError as exc:
        print(f"PostgreSQL bench skipped: {exc}")
        return
    cluster = Cluster(binaries, fsync=True)
    cluster.start()
    try:
        print("PostgreSQL team store (local server, fsync=on, synchronous_commit=on)")
        for size in (int(s) for s in args.sizes.split(",")):
            for what, value in run(cluster, size, args.actions):
                print(f"  {what:<44} {value}")
    finally:
        cluster.destroy()


if __name__ == "__main__":
    main()
