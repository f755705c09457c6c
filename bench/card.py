"""The author card's read at scale: what the preview's worker does once per author.

    .venv/bin/python bench/card.py --messages 100000 --authors 20

Builds (or reuses) the bench store, opens it like the TUI does, then reads the card of
--authors different authors; the first read also builds the identity index (core/indexes.py),
so it is reported apart. Then the people fields on the same store (20 authors tagged vip):
``author-tag:vip`` and ``person:`` through the identity index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import build_store
from cminbox.core.clock import system_clock
from cminbox.core.people import identity_of
from cminbox.core.people_ops import PeopleOps
from cminbox.core.query import parse
from cminbox.core.store import Store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--authors", type=int, default=20)
    args = parser.parse_args()
    # Its own copy: the profile tags written below must not reach the other benchmarks' store.
    folder = Path(tempfile.gettempdir()) / f"cminbox-bench-card-{args.messages}"
    build_store(folder, args.messages)
    store = Store(folder)
    ops = PeopleOps(store, frozenset(), "bench", system_clock)
    authors: dict[str, str] = {}
    for message, _ in store.query():
        authors.setdefault(identity_of(message), message.id)
        if len(authors) > args.authors:
            break
    keys = list(authors)
    started = time.perf_counter()
    ops.card(keys[0])
    first = (time.perf_counter() - started) * 1000
    times = []
    for key in keys[1:]:
        started = time.perf_counter()
        ops.card(key)
        times.append((time.perf_counter() - started) * 1000)
    print(f"author card at {args.messages} items: first {first:.1f} ms (builds the identity index)")
    print(f"  then median {statistics.median(times):.1f} ms, max {max(times):.1f} ms over {len(times)} authors")
    vips = [ops.resolve(key) for key in keys[:20]]
    if not any("vip" in p.tags for p in vips):
        ops.tag(keys[:20], ["vip"])
    for query in ("author-tag:vip", f"person:{keys[0]}", "author-tag:vip status:new", "-author-tag:vip"):
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            found = store.query(where=parse(query))
            runs.append((time.perf_counter() - started) * 1000)
        print(f"  query {query!r}: median {statistics.median(runs):.1f} ms ({len(found)} items)")


if __name__ == "__main__":
    main()
