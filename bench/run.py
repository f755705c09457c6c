"""Store benchmarks: cminbox's store next to plain TinyDB (JSONStorage), same data, same run.

    make bench                       # 1k and 10k messages
    .venv/bin/python bench/run.py --sizes 1000,10000,100000

Prints one table. Messages are ~1 KB each, like real mentions with metadata.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from tinydb import Query, TinyDB

from bench.fixtures import WORDS, make
from cminbox.core import triage
from cminbox.core.models import Message, Status
from cminbox.core.store import Store


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]


def summary(load_ms: float, acts: list[float], ingest: list[float], query: list[float]) -> dict[str, str]:
    return {
        "load": f"{load_ms:.0f}",
        "act_med": f"{statistics.median(acts):.1f}",
        "act_p99": f"{p99(acts):.1f}",
        "ingest": f"{ingest[0]:.0f}",
        "query": f"{statistics.median(query):.0f}",
    }


def bench_cminbox(size: int, msgs: list[Message], rng: random.Random) -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="cminbox-bench-"))
    Store(folder).upsert_messages(msgs)
    gc.collect()
    start = time.perf_counter()
    store = Store(folder)
    load = (time.perf_counter() - start) * 1000
    ids = [m.id for m in msgs]
    acts = timed(lambda: store.act([rng.choice(ids)], triage.AddTags((rng.choice(WORDS),)), actor="bench"), 200)
    store.act(ids[: size // 10], triage.SetStatus(Status.OPEN), actor="bench")
    extra = [make(size + i, rng, datetime.now(UTC)) for i in range(100)]
    ingest = timed(lambda: store.upsert_messages(extra), 1)
    query = timed(lambda: store.query(status=Status.OPEN, tag="sync"), 5)
    return summary(load, acts, ingest, query)


def bench_tinydb(size: int, msgs: list[Message], rng: random.Random) -> dict[str, str]:
    folder = Path(tempfile.mkdtemp(prefix="tinydb-bench-"))
    path = folder / "db.json"
    db = TinyDB(path)
    db.insert_multiple([{**msgspec.to_builtins(m), "status": "new", "tags": []} for m in msgs])
    db.close()
    gc.collect()
    start = time.perf_counter()
    db = TinyDB(path)
    db.all()
    load = (time.perf_counter() - start) * 1000
    q = Query()
    doc_ids = list(range(1, size + 1))
    repeat = 20 if size <= 10_000 else 3

    def act() -> None:
        did = rng.choice(doc_ids)
        doc = db.get(doc_id=did)
        assert doc is not None
        db.update({"tags": [*doc["tags"], rng.choice(WORDS)]}, doc_ids=[did])

    acts = timed(act, repeat)
    db.update({"status": "open"}, doc_ids=doc_ids[: size // 10])
    extra = [
        {**msgspec.to_builtins(make(size + i, rng, datetime.now(UTC))), "status": "new", "tags": []} for i in range(100)
    ]
    ingest = timed(lambda: db.insert_multiple(extra), 1)

    def search() -> None:
        db.clear_cache()  # TinyDB caches query results; measure the search, not the cache
        db.search((q.status == "open") & q.tags.any(["sync"]))

    query = timed(search, 3)
    return summary(load, acts, ingest, query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )
    print("all times in ms; act = one durable tag action; ingest = 100 new messages; query = status+tag filter\n")
    header = f"{'messages':>9} {'store':<19} {'load':>7} {'act med':>8} {'act p99':>8} {'ingest':>7} {'query':>7}"
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        rng = random.Random(size)
        t0 = datetime(2026, 11, 27, tzinfo=UTC)
        msgs = [make(i, rng, t0) for i in range(size)]
        for name, fn in (("cminbox", bench_cminbox), ("tinydb JSONStorage", bench_tinydb)):
            r = fn(size, msgs, random.Random(1))
            print(
                f"{size:>9} {name:<19} {r['load']:>7} {r['act_med']:>8} {r['act_p99']:>8} {r['ingest']:>7} "
                f"{r['query']:>7}"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of the whole run: {rss:.0f} MB")


if __name__ == "__main__":
    main()
