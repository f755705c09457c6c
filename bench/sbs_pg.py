"""The side by side's cminbox on a team's PostgreSQL store (`side_by_side.py --backend postgresql`).

A throwaway cluster of this machine's PostgreSQL server programs (tests/servers/pg_cluster.py,
fsync on, as a team's server runs), one database per data set, filled by `cminbox store migrate`
from the same TinyDB store the TinyDB runs open (so the same items), and a config whose
`[store]` points at it. The cluster is removed when the run ends.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.sbs_data import cminbox_env
from tests.servers.pg_cluster import Cluster, server_binaries

CHANNEL = '[[channels]]\nname = "bench"\ntype = "mastodon"\nurl = "http://127.0.0.1:9"\ninterval = 3600\n'


class PgStores:
    def __init__(self) -> None:
        binaries = server_binaries()
        if binaries is None:
            raise SystemExit("--backend postgresql: no PostgreSQL server programs (initdb); `make test` installs them")
        self.cluster = Cluster(binaries, fsync=True)
        self.cluster.start()
        self.envs: dict[int, dict[str, str]] = {}

    def add(self, size: int, root: Path, cminbox: Path) -> None:
        """The data set of ``root`` copied into a database of its own; cminbox's environment for it."""
        dsn = self.cluster.create_database(f"sbs{size}")
        source = {**os.environ, **cminbox_env(cminbox, root / "home-import", root / "store")}
        done = subprocess.run(
            [str(cminbox), "store", "migrate", "--to", dsn], env=source, capture_output=True, text=True, check=False
        )
        if done.returncode:
            raise SystemExit(f"cminbox store migrate into {dsn} failed:\n{done.stderr[-2000:]}")
        home = root / "home-cminbox-pg"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(f'[store]\nbackend = "postgresql"\ndsn = "{dsn}"\n\n{CHANNEL}')
        data = root / "pg-data-dir"  # the instance's own files (logs); the items are in the database
        data.mkdir(exist_ok=True)
        self.envs[size] = cminbox_env(cminbox, home, data)

    def close(self) -> None:
        self.cluster.destroy()
