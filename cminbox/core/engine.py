"""Live objects built from the config: channel adapters, escalation targets, poller, dispatcher.

Exactly one instance polls and sends at a time: the engine takes the store's poller lease
(cminbox.core.sending_api.PollerLease) before running its loops, and renews it while it
runs; another instance that fails to get it stays passive (it still sees everything through
the store) and takes over when the holder exits, dies or loses the lease.

Every call :meth:`Engine.run` makes on the lease runs on one thread of its own, never on the
event loop: a database lease's acquire, renewal and release are round trips that wait up to
the connection timeout while the server is unreachable (the TUI draws from that loop), and a
file lease is an ``flock`` owned by the thread that took it, which must release it too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from cminbox.core import registry
from cminbox.core.channel import AuthFailed, Channel, ChannelContext
from cminbox.core.clock import Clock, pause
from cminbox.core.config import ChannelConfig, Config
from cminbox.core.dispatch import Dispatcher
from cminbox.core.errors import CminboxError
from cminbox.core.escalation import Target
from cminbox.core.poller import Poller, PollReport
from cminbox.core.rules_run import RuleRunner
from cminbox.core.secrets import SecretError, Secrets, keyring_set
from cminbox.core.sending_api import OutboxStore
from cminbox.core.store_api import StoreApi

HOUSEKEEPING_INTERVAL = 3600.0
HOUSEKEEPING_DELAY = 180.0
log = logging.getLogger(__name__)
DELIVERY_INTERVAL = 2.0
TAKEOVER_INTERVAL = 3.0
TAKEOVER_MARGIN = 0.05  # after the holder's expiry, so the server sees it expired
LEASE_RENEW_INTERVAL = 2.0
R = TypeVar("R")


def target_entry(name: str) -> str:
    return f"escalation:{name}"


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
        self,
        config: Config,
        store: StoreApi,
        outbox: OutboxStore,
        secrets: Secrets,
        clock: Clock,
        transport: Any = None,
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
        self.rules = RuleRunner.of(config, store, clock)
        self.poller = Poller(store, self.channels, {c.name: c for c in config.channels}, clock, rules=self.rules)
        self.dispatcher = Dispatcher(store, outbox, self.channels, self.targets, clock, may_send=self._may_send)
        self.poller_lease = store.poller_lease()
        self.active = False

    def _may_send(self) -> bool:
        """While polling under the lease, only as long as it is held: a renewal that failed (the
        heartbeat's or the loop's) ends sending at once, not after the batch. Outside the run
        loop (``outbox flush``, ``poll --once``) the caller holds the lease for its one batch."""
        return not self.active or self.poller_lease.held

    @staticmethod
    async def _on(thread: ThreadPoolExecutor, call: Callable[[], R]) -> R:
        """``call`` on the lease's thread, run to its end even if the awaiting task is cancelled
        (a release must not be skipped because the app is closing)."""
        return await asyncio.shield(asyncio.get_running_loop().run_in_executor(thread, call))

    async def poll_once(self) -> list[PollReport]:
        return await self.poller.poll_all_once()

    def poller_pid(self) -> int | None:
        """The pid of another process polling this data dir (0: unknown), None if none is."""
        if self.active:
            return None
        holder = self.poller_lease.holder()
        return None if holder is None else holder.pid

    async def run(self, stop: asyncio.Event, on_active: Callable[[], None] | None = None) -> None:
        """Poll and deliver until ``stop``; wait passively while another instance holds the lease.
        ``on_active`` is called each time this instance takes the lease and starts polling."""
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cminbox-lease")
        try:
            await self._run(stop, on_active, thread)
        finally:
            thread.shutdown(wait=False)

    async def _run(self, stop: asyncio.Event, on_active: Callable[[], None] | None, thread: ThreadPoolExecutor) -> None:
        while not stop.is_set():
            if not await self._on(thread, self.poller_lease.acquire):
                await pause(stop, await self._on(thread, self._takeover_wait))
                continue
            self.active = True
            if on_active is not None:
                on_active()
            active = asyncio.Event()  # set when ``stop`` is, or when the lease is lost
            try:
                await asyncio.gather(
                    self.poller.run(active),
                    self._deliver_loop(active),
                    self._housekeeping(active),
                    self._keep_lease(stop, active, thread),
                )
            finally:
                self.active = False
                await self._on(thread, self.poller_lease.release)

    def _takeover_wait(self) -> float:
        """Seconds until the next try for the lease: TAKEOVER_INTERVAL, or less when the holder's
        lease runs out sooner (a dead holder is replaced when its lease expires, not up to an
        interval later)."""
        try:
            holder = self.poller_lease.holder()
        except CminboxError:  # the store is unreachable: try again at the usual pace
            return TAKEOVER_INTERVAL
        if holder is None or holder.expires_in is None:
            return TAKEOVER_INTERVAL
        return min(TAKEOVER_INTERVAL, max(0.0, holder.expires_in) + TAKEOVER_MARGIN)

    async def _keep_lease(self, stop: asyncio.Event, active: asyncio.Event, thread: ThreadPoolExecutor) -> None:
        """Renew the lease while polling; when it is lost (or on ``stop``) end the active loops."""
        while not stop.is_set():
            if not await self._on(thread, self.poller_lease.renew):
                log.warning("the poller lease was lost: another instance polls now")
                break
            await pause(stop, LEASE_RENEW_INTERVAL)
        active.set()

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
