"""A writer process for the store torture tests: random mixed actions on one data dir.

    python -m tests.mixed_writer DATA NAME SEED COUNT [--deliver SENDLOG] [--barrier FILE]
                                 [--config FILE [--instance ID]]

Prints one ``ACK`` line per action only after the store call returned (the action is
acknowledged), so the test can check that every acknowledged action is on disk:

    ACK act <message id> <group>      a triage action (status, assign, priority, note); - if a no-op
    ACK tag <message id> <tag>        a tag added (tags are never removed here)
    ACK msg <message id>              a new message ingested
    ACK out <outbox item id>          a reply queued

With ``--deliver``, the writer also claims due outbox items and "sends" each by appending
its id to SENDLOG (O_APPEND, fsync) before marking it sent. With ``--barrier``, after its
actions it waits for FILE to exist, reloads, and prints ``VIEW <digest>`` of what it sees.

With ``--config``, the store is the one that config names for DATA, opened through the
wiring as the app opens it (``[store] backend = "postgresql"``: the team's database), and
``--instance`` is this process's identity in it (``host:pid:random``; another host's name
makes it a writer on another host). Without it, the TinyDB store in DATA.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec

from cminbox.core import config, triage
from cminbox.core.models import Note, Priority, Status
from cminbox.core.outbox import OutboxKind
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store import Store
from cminbox.core.store_api import StoreApi
from cminbox.core.wiring import open_store, store_settings
from tests.factories import make_message


def say(line: str) -> None:
    """One line in one write: print() under PYTHONUNBUFFERED writes the newline apart, and a
    kill between the two would leave an acknowledged action looking unacknowledged."""
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def view_digest(store: StoreApi, outbox: OutboxStore) -> str:
    store.refresh()
    h = hashlib.sha256()
    for mid in sorted(store.message_ids()):
        h.update(msgspec.json.encode([mid, store.get_message(mid), store.triage(mid)]))
    for item in sorted(outbox.items(), key=lambda i: i.id):
        h.update(msgspec.json.encode([item.id, item.status]))
    return h.hexdigest()[:16]


def deliver(outbox: OutboxStore, sendlog: Path) -> None:
    for item in outbox.claim_due(5):
        fd = os.open(sendlog, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, f"{item.id} {os.getpid()}\n".encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        outbox.mark_sent(item, {"id": f"sent-{item.id}"})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data", type=Path)
    parser.add_argument("name")
    parser.add_argument("seed", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--deliver", type=Path)
    parser.add_argument("--barrier", type=Path)
    parser.add_argument("--config", type=Path)
    parser.add_argument("--instance")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    store: StoreApi
    if args.config:
        settings = store_settings(config.parse(args.config.read_text(), args.config), args.data)
        if args.instance:
            settings.options["instance"] = args.instance
        store = open_store(settings)
    else:
        store = Store(args.data)
    outbox = store.outbox
    ids = sorted(store.message_ids())
    t0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    for n in range(args.count):
        mid = rng.choice(ids)
        roll = rng.random()
        if roll < 0.30:
            tag = f"{args.name}-{args.seed}-{n}"
            store.act([mid], triage.AddTags((tag,)), actor=args.name)
            say(f"ACK tag {mid} {tag}")
        elif roll < 0.65:
            action = rng.choice(
                [
                    triage.SetStatus(rng.choice(list(Status))),
                    triage.Assign(args.name),
                    triage.SetPriority(rng.choice(list(Priority))),
                    triage.AddNote(Note(id=f"{args.name}-{n}", author=args.name, at=t0, text=f"note {n}")),
                ]
            )
            result = store.act([mid], action, actor=args.name)
            # "-": the action changed nothing (e.g. the same priority again), so there is no group to find.
            say(f"ACK act {mid} {result.group if result.changed else '-'}")
        elif roll < 0.80:
            msg = make_message(
                n, channel=f"in{args.name}{args.seed}", at=t0 - timedelta(minutes=rng.randint(0, 90_000))
            )
            store.upsert_messages([msg])
            say(f"ACK msg {msg.id}")
        else:
            item = outbox.enqueue(OutboxKind.REPLY, mid, "masto", {"text": f"reply {n}"}, args.name)
            say(f"ACK out {item.id}")
        if args.deliver and n % 10 == 9:
            deliver(outbox, args.deliver)
    if args.barrier:
        say("DONE")
        while not args.barrier.exists():
            time.sleep(0.05)
        say(f"VIEW {view_digest(store, outbox)}")
    store.close()


if __name__ == "__main__":
    main()
