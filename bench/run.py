"""Store benchmarks: cminbox's store next to plain TinyDB (JSONStorage), same data, same run.

    make bench                                   # 10k and 100k messages
    .venv/bin/python bench/run.py --sizes 1000,10000

Prints one table. Messages are ~1 KB each, like real mentions with their metadata. Each
measurement runs in its own process on a fresh copy of the data (so RSS is that store's
alone and no run sees another's writes), on the disk of the data dir, with fsync on.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import msgspec
from tinydb import Query, TinyDB

from bench.fixtures import WORDS, build_store, make
from cminbox.core import triage
from cminbox.core.models import Message, Status
from cminbox.core.query import parse
from cminbox.core.store import Store

LANGUAGE_QUERIES = {
    "q_index": "status:open tag:outage",  # indexed fields only: ~0.5% match
    "q_text": '"crash login"',  # free text: every message's text is read
    "q_ornot": "(tag:outage or status:open) -login",  # an OR the indexes unite, a NOT checked per item
}
CACHE = Path(os.environ.get("CMINBOX_BENCH_CACHE", Path.home() / ".cache" / "cminbox-bench"))


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def p99(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def summary(
    load: float, rss: float, acts: list[float], ingest: list[float], query: list[float], **more: list[float]
) -> dict[str, float]:
    return {
        **{name: statistics.median(times) for name, times in more.items()},
        "load": load,
        "rss": rss,
        "act_med": statistics.median(acts),
        "act_p99": p99(acts),
        "ingest": statistics.median(ingest),
        "query": statistics.median(query),
        "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def fresh_batches(size: int, count: int, rng: random.Random) -> list[list[dict[str, object]]]:
    now = datetime.now(UTC)
    return [[msgspec.to_builtins(make(size + 1000 * b + i, rng, now)) for i in range(100)] for b in range(count)]


def child_cminbox(path: Path, size: int) -> dict[str, float]:
    gc.collect()
    start = time.perf_counter()
    store = Store(path)  # everything loaded and indexed: a usable store
    load = (time.perf_counter() - start) * 1000
    rss = rss_mb()
    rng = random.Random(1)
    ids = store.message_ids()
    acts = timed(lambda: store.act([rng.choice(ids)], triage.AddTags((rng.choice(WORDS),)), actor="bench"), 300)
    # The query's data: 10% open, 5% tagged "outage", so ~0.5% match both (500 rows at 100k).
    store.act(ids[: size // 10], triage.SetStatus(Status.OPEN), actor="bench")
    store.act(ids[::20], triage.AddTags(("outage",)), actor="bench")
    batches = iter([[msgspec.convert(d, Message) for d in batch] for batch in fresh_batches(size, 5, rng)])
    ingest = timed(lambda: store.upsert_messages(next(batches)), 5)
    query = timed(lambda: store.query(status=Status.OPEN, tag="outage"), 20)
    # The filter language (the TUI's /, views, list --query): planned over the indexes.
    langs = {name: parse(text) for name, text in LANGUAGE_QUERIES.items()}
    more = {name: timed(functools.partial(store.query, where=q, me="bench"), 5) for name, q in langs.items()}
    return summary(load, rss, acts, ingest, query, **more)


def child_tinydb(path: Path, size: int) -> dict[str, float]:
    gc.collect()
    start = time.perf_counter()
    db = TinyDB(path)
    db.all()  # JSONStorage reads lazily: a usable store has read its file once
    load = (time.perf_counter() - start) * 1000
    rss = rss_mb()
    rng = random.Random(1)
    doc_ids = list(range(1, size + 1))
    repeat = 20 if size <= 10_000 else 3  # ~3 s per update at 100k

    def act() -> None:
        did = rng.choice(doc_ids)
        doc = db.get(doc_id=did)
        assert doc is not None and not isinstance(doc, list)
        db.update({"tags": [*doc["tags"], rng.choice(WORDS)]}, doc_ids=[did])

    acts = timed(act, repeat)
    db.update({"status": "open"}, doc_ids=doc_ids[: size // 10])
    db.update(lambda doc: doc.update(tags=[*doc["tags"], "outage"]), doc_ids=doc_ids[::20])
    batches = iter(fresh_batches(size, 2, rng))
    ingest = timed(lambda: db.insert_multiple([{**d, "status": "new", "tags": []} for d in next(batches)]), 2)
    q = Query()

    def search() -> None:
        db.clear_cache()  # TinyDB caches query results; measure the search, not the cache
        db.search((q.status == "open") & q.tags.any(["outage"]))

    query = timed(search, 3)
    return summary(load, rss, acts, ingest, query)


def build_tinydb(size: int) -> Path:
    path = CACHE / f"tinydb-{size}.json"
    if not path.exists():
        rng = random.Random(size)
        t0 = datetime(2026, 11, 27, tzinfo=UTC)
        tmp = path.with_suffix(".partial")
        tmp.unlink(missing_ok=True)
        db = TinyDB(tmp)
        db.insert_multiple(
            [{**msgspec.to_builtins(make(i, rng, t0)), "status": "new", "tags": []} for i in range(size)]
        )
        db.close()
        tmp.rename(path)
    return path


def run_child(kind: str, source: Path, size: int) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{kind}-", dir=CACHE))
    try:
        target = work / source.name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy(source, target)
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--size", str(size), "--path", str(target)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result: dict[str, float] = json.loads(out)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--stores", default="cminbox,tinydb", help="which stores to measure (comma-separated)")
    parser.add_argument("--child", choices=["cminbox", "tinydb"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        fn = child_cminbox if args.child == "cminbox" else child_tinydb
        print(json.dumps(fn(args.path, args.size)))
        return

    CACHE.mkdir(parents=True, exist_ok=True)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; data in {CACHE}"
    )
    print(
        "ms unless noted. load = open until usable (all indexes built); RSS after load, and the process's\n"
        "peak; act = one durable tag action (fsynced); ingest = 100 new messages;\n"
        "query = status+tag filter (~0.5% of messages match); in the filter language (cminbox only):\n"
        f"q index = {LANGUAGE_QUERIES['q_index']}, q text = {LANGUAGE_QUERIES['q_text']}, "
        f"q or/not = {LANGUAGE_QUERIES['q_ornot']}\n"
    )
    header = (
        f"{'messages':>9} {'store':<19} {'load':>7} {'RSS MB':>7} {'peak MB':>8} {'act med':>8} {'act p99':>8} "
        f"{'ingest':>7} {'query':>7} {'q index':>8} {'q text':>7} {'q or/not':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        sources = {"cminbox": build_store(CACHE / f"cminbox-{size}", size), "tinydb": build_tinydb(size)}
        for kind, label in (("cminbox", "cminbox"), ("tinydb", "tinydb JSONStorage")):
            if kind not in args.stores.split(","):
                continue
            r = run_child(kind, sources[kind], size)
            lang = (
                f" {r['q_index']:>8.2f} {r['q_text']:>7.0f} {r['q_ornot']:>8.1f}"
                if "q_index" in r
                else f" {'-':>8} {'-':>7} {'-':>8}"
            )
            print(
                f"{size:>9} {label:<19} {r['load']:>7.0f} {r['rss']:>7.0f} {r['peak']:>8.0f} {r['act_med']:>8.1f} "
                f"{r['act_p99']:>8.1f} {r['ingest']:>7.1f} {r['query']:>7.2f}{lang}",
                flush=True,
            )
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n(each row ran in its own process; this parent peaked at {parent:.0f} MB building the data)")


if __name__ == "__main__":
    main()
