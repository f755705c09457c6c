"""Two instances on one PostgreSQL store: what one commits, the other's inbox shows by itself,
woken by the database's notification (no timer asks the server)."""

from __future__ import annotations

import time
from pathlib import Path

from cminbox.core import config as config_mod
from cminbox.core import triage
from cminbox.core.clock import FrozenClock
from cminbox.core.pg.store import PgStore
from cminbox.core.secrets import Secrets
from cminbox.core.wiring import wire
from cminbox.tui.inbox_screen import InboxScreen
from tests.conftest import T0
from tests.servers.pg_cluster import Cluster
from tests.tui_fixtures import CONFIG, make_app, make_services


async def test_a_teammates_action_shows_in_the_other_inbox_without_a_timer(tmp_path: Path, pg_database: str) -> None:
    text = CONFIG + f'\n[store]\nbackend = "postgresql"\ndsn = "{pg_database}"\nconnect_timeout = 5\n'
    clock = FrozenClock(T0)
    app = make_app(make_services(tmp_path / "ana", clock, config_text=text))
    bob = wire(config_mod.parse(text, tmp_path / "bob.toml"), tmp_path / "bob", clock=clock, secrets=Secrets({}))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            assert isinstance(screen, InboxScreen)
            # PostgreSQL pushes changes: the screen runs a watcher, not the 1-second check.
            assert screen.s.store.pushes_changes
            assert any(w.name == "store watch" for w in app.workers)
            rows = screen.inbox_list
            bob.store.act(["masto:101"], triage.AddTags(("from-bob",)), actor="bob")
            started = time.monotonic()
            for _ in range(200):  # bounded: the change arrives, or the test fails (no timing assert)
                await pilot.pause(0.02)
                if "from-bob" in rows.rows[rows.index["masto:101"]].state.tags:
                    break
            seen_after = time.monotonic() - started
            assert "from-bob" in rows.rows[rows.index["masto:101"]].state.tags
            print(f"seen by the other instance after {seen_after * 1000:.0f} ms")
    finally:
        bob.store.close()


async def test_quitting_with_the_server_gone_closes_the_store_so_no_worker_holds_the_exit(
    tmp_path: Path, crashable: Cluster
) -> None:
    """The team demo's second teammate, once the first had quit and taken the server with it:
    `q` left a blank screen for 14-26 s, the workers still waiting for connections (each up to
    the pool's timeout) holding the exit, which waits for every worker thread. With the store
    unreachable (the banner up), quitting skips the presence goodbye (it expires by itself)
    and closes the store, which fails those waits at once."""
    dsn = crashable.create_database("quit")
    text = CONFIG + f'\n[store]\nbackend = "postgresql"\ndsn = "{dsn}"\nconnect_timeout = 10\n'
    services = make_services(tmp_path, FrozenClock(T0), config_text=text)
    store = services.store
    assert isinstance(store, PgStore)
    app = make_app(services)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert isinstance(screen, InboxScreen)
        crashable.stop("immediate")
        for _ in range(300):  # bounded: the banner comes, or the test fails (no timing assert)
            await pilot.pause(0.05)
            if not screen.store_ok:
                break
        assert not screen.store_ok
        await pilot.press("q")
        await pilot.pause(0.5)
    assert store.db.pool.closed
