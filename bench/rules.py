"""What rules cost at ingest: 100 new messages stored into a 100k-message TinyDB store, without
rules and with 50, batches interleaved on one store (so both meet the same files).

    make bench                                     # part of it
    .venv/bin/python bench/rules.py [--size 100000] [--rules 50] [--batches 9]

The store is bench/run.py's (built once, cached in ~/.cache/cminbox-bench), copied to a
scratch folder, with run.py's triage data (10% open, 5% tagged outage) and 20 people tagged
vip. Two sets of 50 rules, each a community's kind: a few that read people (author-tag:vip) or
the state (tag:), a mute, an auto-reply, and 45 on phrases: three-word ones in the *typical*
set (together they act on ~1 item in 10), two-word ones in the *heavy* set (they act on ~9 in
10, two or three rules each). Batches without rules and with each set are interleaved. Also
timed: the planning alone (no store), and `rules test` over the newest 1,000 items.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import WORDS, build_store, make
from cminbox.core import config, triage
from cminbox.core.clock import system_clock
from cminbox.core.models import Message, Status
from cminbox.core.people import Person, identity, new_id
from cminbox.core.rules_plan import plan
from cminbox.core.rules_run import RuleRunner
from cminbox.core.store import Store

CACHE = Path(os.environ.get("CMINBOX_BENCH_CACHE", Path.home() / ".cache" / "cminbox-bench"))
BASE = """
[[channels]]
name = "bench"
type = "mastodon"
url = "https://example.social"
staff = ["@user0@example.social"]

[[saved_replies]]
name = "ack"
text = "Thanks {author.first_name}, we are looking into it."
"""


def rules_text(count: int, rng: random.Random, *, words: int) -> str:
    """``count`` rules: a few reading people or the state, a mute, an auto-reply, the rest on
    phrases of ``words`` words (each two-word phrase matches ~5% of these messages, each
    three-word one ~0.15%)."""
    out = []
    special = [
        ("author-tag:vip", 'priority = "high"'),
        ("tag:crash -status:done", 'tag = ["incident"]'),
        ('"crash login crash" or "broken sync broken"', 'priority = "urgent"\ntag = ["crash"]'),
        ('"pricing pricing pricing"', 'mute = "spam"\nstop = true'),
        ('"restore backup please" -from:staff', 'reply = "ack"\nauto_reply = true'),
    ]
    for i in range(count):
        if i < len(special):
            when, effect = special[i]
        else:
            phrase = rng.sample(WORDS, words)
            when, effect = f'"{" ".join(phrase)}"', f'tag = ["{"-".join(phrase)}"]'
        out.append(f"[[rules]]\nname = \"r{i:02d}\"\nwhen = '{when}'\n{effect}\n")
    return "\n".join(out)


def timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def describe(
    kind: str,
    runner: RuleRunner,
    recent: list[tuple[Message, triage.TriageState]],
    times: list[float],
    base: float,
    touched: list[int],
) -> str:
    rules, ctx = runner.context(runner.rules, record=False)
    planning = statistics.median([timed(lambda: plan(rules, recent[:100], lambda ids: set(), ctx)) for _ in range(20)])
    med = statistics.median(times)
    return (
        f"{kind:>8} rules: ingest median {med:5.1f} ms (min {min(times):.1f}), adds {med - base:5.1f} ms; "
        f"items changed per batch {statistics.median(touched):.0f}; planning alone {planning:.1f} ms; "
        f"rules test on 1,000 items {timed(lambda: runner.test(recent)):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--batches", type=int, default=9)
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    source = build_store(CACHE / f"cminbox-{args.size}", args.size)
    work = Path(tempfile.mkdtemp(prefix="bench-rules-", dir=CACHE))
    try:
        shutil.copytree(source, work / "store")
        store = Store(work / "store")
        ids = store.message_ids()
        store.act(ids[: args.size // 10], triage.SetStatus(Status.OPEN), actor="bench")
        store.act(ids[::20], triage.AddTags(("outage",)), actor="bench")
        vips = [
            Person(id=new_id(), identities=[identity("bench", f"@user{u}@example.social")], tags=["vip"])
            for u in range(1, 500, 25)
        ]
        store.write_people(vips, actor="bench", label="tag vip")
        rng = random.Random(3)
        runners = {
            kind: RuleRunner(config.parse(BASE + rules_text(args.rules, rng, words=n)), store, system_clock)
            for kind, n in (("typical", 3), ("heavy", 2))
        }
        now = datetime.now(UTC)
        fresh = iter([make(args.size + 1000 * b + i, rng, now) for i in range(100)] for b in range(3 * args.batches))
        times: dict[str, list[float]] = {"none": [], "typical": [], "heavy": []}
        touched: dict[str, list[int]] = {"typical": [], "heavy": []}
        for _ in range(args.batches):
            times["none"].append(timed(lambda: store.upsert_messages(next(fresh))))
            for kind, runner in runners.items():
                batch = next(fresh)

                def ingest(runner: RuleRunner = runner, batch: list[Message] = batch, kind: str = kind) -> None:
                    effects = runner.ingest(batch).outcome.planned.effects
                    touched[kind].append(len({e.message_id for e in effects}))

                times[kind].append(timed(ingest))
        recent: list[tuple[Message, triage.TriageState]] = store.query(limit=1000)
        base = statistics.median(times["none"])
        print(f"{args.size} messages, {args.rules} rules, {args.batches} batches of 100 new messages each way")
        print(
            f"ingest 100, no rules:  median {base:5.1f} ms (min {min(times['none']):.1f}, max {max(times['none']):.1f})"
        )
        for kind, runner in runners.items():
            print(describe(kind, runner, recent, times[kind], base, touched[kind]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
