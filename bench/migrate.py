"""Moving a 100k-item TinyDB store to PostgreSQL and back (`cminbox store migrate`).

    make bench                                   # runs this when the server binaries exist
    .venv/bin/python bench/migrate.py --size 100000

The source is built once and cached (bench/fixtures.build_store, then actions on a third of
the items, an undo, 5% archived, outbox items, drafts and cursors). On a throwaway local
server (fsync on) it times: the copy to PostgreSQL through the real CLI, SIGKILLed after 20
batches and run again to completion; a second run (verifies only; the event count must not
change); the copy back to a TinyDB folder. Every run ends by comparing the complete export
of both stores; this prints whether they were equal. Says so and exits 0 when the
PostgreSQL binaries or psycopg are missing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.fixtures import build_store
from bench.run import CACHE
from cminbox.core import triage
from cminbox.core.models import Status
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.pg.connection import PsycopgMissingError, require_psycopg
from cminbox.core.store import Store
from cminbox.core.store_move import digest
from tests.servers.pg_cluster import Cluster, server_binaries

ROOT = Path(__file__).resolve().parent.parent


def source_store(size: int) -> Path:
    folder = CACHE / f"move-{size}"
    marker = folder / f".moved-{size}"
    if marker.exists():
        return folder
    build_store(folder, size)
    store = Store(folder, durable=False)
    ids = sorted(store.message_ids())
    store.act(ids[::3], triage.AddTags(("bug",)), actor="ana", undoable=False)
    store.act(ids[::20], triage.SetStatus(Status.DONE), actor="ben", undoable=False)
    store.act(ids[1::7], triage.Assign("ana"), actor="ben")
    store.undo("ben")
    store.archive(timedelta(days=0))
    outbox = store.outbox
    sent = outbox.enqueue_many(OutboxKind.REPLY, [(ids[-k], "bench", {"text": "hi"}) for k in range(1, 11)], "ana")
    for item in outbox.claim_due(limit=5):
        outbox.mark_sent(item, {"native_id": item.id})
    assert len(sent) == 10
    store.set_draft(ids[-1], "a draft")
    store.set_cursor("bench", {"since": "123"})
    store.close()
    marker.touch()
    return folder


def cli(source: str, to: str, config: Path, failpoint: str = "") -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CMINBOX_")}
    if failpoint:
        env["CMINBOX_FAILPOINT"] = failpoint
    argv = [sys.executable, "-m", "cminbox", "--config", str(config), "store", "migrate", "--from", source, "--to", to]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()
    binaries = server_binaries()
    if binaries is None:
        print("store migrate bench skipped: no PostgreSQL server binaries (install postgresql, or set CMINBOX_PG_BIN)")
        return
    try:
        require_psycopg()
    except PsycopgMissingError as exc:
        print(f"store migrate bench skipped: {exc}")
        return
    source = source_store(args.size)
    work = Path(tempfile.mkdtemp(prefix="bench-move-"))
    config = work / "config.toml"
    config.touch()
    cluster = Cluster(binaries, fsync=True)
    cluster.start()
    try:
        dsn = cluster.create_database("moved")
        killed_after, killed = cli(str(source), dsn, config, failpoint="migrate.batch.20")
        assert killed.returncode == -9, killed.stderr
        rest, done = cli(str(source), dsn, config)
        assert done.returncode == 0, done.stderr
        again_s, again = cli(str(source), dsn, config)
        assert again.returncode == 0 and "nothing to copy" in again.stdout, again.stdout + again.stderr
        back_s, back = cli(dsn, str(work / "back"), config)
        assert back.returncode == 0, back.stderr
        src = digest(Store(source))
        equal = src == digest(Store(work / "back"))
        counts = ", ".join(f"{n:,} {what}" for what, n in src.counts.items())
        print("store migrate (TinyDB -> PostgreSQL -> TinyDB; local server, fsync=on)")
        print(f"  {'source':<44} {counts}")
        print(f"  {'to PostgreSQL: killed after 20 batches, then':<44} {killed_after:.1f} s + {rest:.1f} s (continued)")
        print(f"  {'second run (verify only, nothing copied)':<44} {again_s:.1f} s")
        print(f"  {'back to a TinyDB folder':<44} {back_s:.1f} s")
        print(f"  {'complete exports equal (all three stores)':<44} {'yes' if equal else 'NO'}")
        if not equal:
            sys.exit(1)
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
