"""Live objects built from the config: channel adapters, escalation targets, poller, dispatcher.

Exactly one process polls and sends at a time: the engine takes ``poller.lock`` before
running its loops; another instance that fails to get it stays passive (it still sees
everything through the store) and takes over when the holder exits or dies.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from cminbox.core import registry
from cminbox.core.channel import AuthFailed, Channel, ChannelContext
from cminbox.core.clock import Clock, pause
from cminbox.core.config import ChannelConfig, Config
from cminbox.core.dispatch import Dispatcher
from cminbox.core.escalation import Target
from cminbox.core.locking import FileLock
from cminbox.core.outbox import Outbox
from cminbox.core.poller import Poller, PollReport
from cminbox.core.secrets import SecretError, Secrets, keyring_set
from cminbox.core.store import Store

HOUSEKEEPING_INTERVAL = 3600.0
HOUSEKEEPING_DELAY = 180.0
log = logging.getLogger(__name__)
DELIVERY_INTERVAL = 2.0
TAKEOVER_INTERVAL = 3.0


def target_entry(name: str) -> str:
    return f"escalation:{name}"


def poller_lock(data_dir: Path) -> FileLock:
    """The lock of the one instance that polls and sends for a data dir (it records its pid)."""
    return FileLock(data_dir / "poller.lock", record_pid=True)


def build_channel(cfg: ChannelConfig, secrets: Secrets, clock: Clock, transport: Any = None) -> Channel:
    cls = registry.load_channel(cfg.type)

    async def token() -> str | None:
        try:
            return await secrets.aget(cfg.name, cfg.token_command)
        except SecretError as exc:
            raise AuthFailed(f"cannot get the token for {cfg.name!r}: {exc}") from None

    async def save_token(secret: str) -> None:
        if not cfg.token_command:  # a token_command owns its secret; we cannot write it back
            await asyncio.to_thread(keyring_set, cfg.name, secret)

    ctx = ChannelContext(
        name=cfg.name,
        url=cfg.url,
        account=cfg.account,
        options=cfg.options,
        token=token,
        clock=clock,
        transport=transport,
        save_token=save_token,
    )
    channel: Channel = cls(ctx)
    return channel


class Engine:
    def __init__(
        self, config: Config, store: Store, outbox: Outbox, secrets: Secrets, clock: Clock, transport: Any = None
    ) -> None:
        self.config = config
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.channels: dict[str, Channel] = {
            c.name: build_channel(c, secrets, clock, transport) for c in config.channels
        }
        self.targets: dict[str, Target] = {}
        for t in config.targets:
            cls = registry.load_target(t.type)
            secret = secrets.get(target_entry(t.name), t.secret_command) if t.secret_command else None
            self.targets[t.name] = cls(t, secret, clock, transport)
        self.poller = Poller(store, self.channels, {c.name: c for c in config.channels}, clock)
        self.dispatcher = Dispatcher(store, outbox, self.channels, self.targets, clock)
        self.poller_lock = poller_lock(store.dir)
        self.active = False

    async def poll_once(self) -> list[PollReport]:
        return await self.poller.poll_all_once()

    def poller_pid(self) -> int | None:
        """The pid of another process polling this data dir (0: unknown), None if none is."""
        return None if self.active else self.poller_lock.holder()

    async def run(self, stop: asyncio.Event, on_active: Callable[[], None] | None = None) -> None:
        """Poll and deliver until ``stop``; wait passively while another instance holds the lock.
        ``on_active`` is called once this instance has the lock and starts polling."""
        while not stop.is_set():
            # Non-blocking flock returns at once, and the lock must be taken on the thread that releases it.
            if self.poller_lock.acquire(blocking=False):
                break
            await pause(stop, TAKEOVER_INTERVAL)
        if stop.is_set():
            return
        self.active = True
        if on_active is not None:
            on_active()
        try:
            await asyncio.gather(self.poller.run(stop), self._deliver_loop(stop), self._housekeeping(stop))
        finally:
            self.active = False
            self.poller_lock.release()

    async def _deliver_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.dispatcher.deliver_due()
            except Exception:
                log.exception("outbox delivery failed")
            await pause(stop, DELIVERY_INTERVAL)

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        """Retention, run by whichever instance polls: hourly, first a few minutes after start
        (archiving needs every segment read: not while the TUI is streaming them in)."""
        days = self.config.store.archive_after_days
        await pause(stop, HOUSEKEEPING_DELAY)
        while days > 0 and not stop.is_set():
            try:
                moved = await asyncio.to_thread(self.store.archive, timedelta(days=days))
                if moved:
                    log.info("archived %d done item(s) older than %d days", len(moved), days)
            except Exception:
                log.exception("archiving failed")
            await pause(stop, HOUSEKEEPING_INTERVAL)

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()
        for target in self.targets.values():
            await target.aclose()
