"""The polling engine: every enabled channel on its own interval, concurrently.

Each channel has its own loop, its own backoff and its own health record, so a slow,
rate-limited or broken channel never delays the others. New messages are merged into
the store by id (duplicates are impossible) and the cursor is saved *after* the
messages, so a crash between the two re-fetches a page rather than losing it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from cminbox.core.channel import AuthFailed, BadResponse, Channel, ChannelError, RateLimited
from cminbox.core.clock import Clock, pause
from cminbox.core.collision import staff_handles
from cminbox.core.community import Answering
from cminbox.core.config import ChannelConfig
from cminbox.core.enrich import enrich
from cminbox.core.errors import CminboxError
from cminbox.core.health import ChannelHealth, HealthState
from cminbox.core.people import staff_identities
from cminbox.core.redact import redactor
from cminbox.core.rules_run import RuleRunner, warning_text
from cminbox.core.secretless import holds_secret, secretless
from cminbox.core.store_api import StoreApi
from cminbox.core.text import one_line

log = logging.getLogger(__name__)
POLL_TIMEOUT = 60.0
MAX_BACKOFF = 900.0


@dataclass
class PollReport:
    channel: str
    health: ChannelHealth
    new_ids: list[str] = field(default_factory=list)
    fetched: int = 0


class Poller:
    def __init__(
        self,
        store: StoreApi,
        channels: dict[str, Channel],
        configs: dict[str, ChannelConfig],
        clock: Clock,
        on_report: Callable[[PollReport], Awaitable[None] | None] | None = None,
        rng: random.Random | None = None,
        rules: RuleRunner | None = None,
    ) -> None:
        self.store = store
        self.rules = rules  # run on the new items inside the step that stores them
        self.channels = channels
        self.configs = configs
        self.clock = clock
        self.on_report = on_report
        self.rng = rng or random.Random()

    def _answering(self) -> Answering:
        """Who is staff and whose replies never count, read once per batch (core/community.py)."""
        staff = staff_identities(staff_handles(self.configs.values()))
        return Answering.of(self.store.people(), staff)

    def health(self, name: str) -> ChannelHealth:
        return ChannelHealth.from_doc(self.store.get_health(name), name)

    def _backoff(self, interval: int, failures: int) -> float:
        delay = min(MAX_BACKOFF, float(interval) * 2.0 ** max(0, failures - 1))
        return delay * (0.8 + 0.4 * self.rng.random())

    async def poll_channel(self, name: str) -> PollReport:
        cfg = self.configs[name]
        channel = self.channels[name]
        try:  # off the event loop: a team store's read waits up to its connect timeout when down
            health = await asyncio.to_thread(self.health, name)
        except CminboxError:  # unreachable: the reads below fail too, and the channel says why
            health = ChannelHealth(channel=name)
        now = self.clock()
        health.last_attempt = now
        report = PollReport(channel=name, health=health)
        ruled = ""  # the rules' warnings for this batch
        try:
            cursor = await asyncio.to_thread(self.store.get_cursor, name)
            result = await asyncio.wait_for(channel.poll(cursor), timeout=POLL_TIMEOUT)
            if holds_secret(result.cursor):  # a server echoing the token in its paging cursor
                raise BadResponse("the server's paging cursor holds a secret of this channel; not kept")
            # Off the loop, as enrich is: one pass over each message's strings per secret form.
            fresh = await asyncio.to_thread(lambda: [secretless(m) for m in result.messages])
            if cursor is None and fresh:
                # A first poll (or one after `doctor --repair` rewound the cursor) re-reads history:
                # what was archived stays in the archive rather than coming back as new.
                archived = await asyncio.to_thread(self.store.archived_ids)
                fresh = [m for m in fresh if m.id not in archived]
            fresh = await asyncio.to_thread(enrich, fresh)  # language and sentiment, off the loop
            answers = await asyncio.to_thread(self._answering) if fresh else None
            if self.rules is not None:
                ingested = await asyncio.to_thread(self.rules.ingest, fresh, answers)
                report.new_ids, ruled = ingested.new_ids, warning_text(ingested.outcome)
            else:
                report.new_ids = await asyncio.to_thread(self.store.upsert_messages, fresh, answers=answers)
            if result.cursor != cursor:
                await asyncio.to_thread(self.store.set_cursor, name, result.cursor)
        except AuthFailed as exc:
            health.state, health.reason = HealthState.AUTH_FAILED, exc.reason
            health.failures += 1
            health.next_attempt = None  # retrying a rejected token only locks the account
        except RateLimited as exc:
            health.state, health.reason = HealthState.RATE_LIMITED, exc.reason
            health.failures += 1
            health.next_attempt = exc.retry_at
        except CminboxError as exc:  # the store cannot be read or written: say which file, and what to do
            health.state, health.reason = HealthState.DEGRADED, str(exc)
            health.failures += 1
            health.next_attempt = now + timedelta(seconds=self._backoff(cfg.interval, health.failures))
        except (ChannelError, TimeoutError) as exc:
            reason = exc.reason if isinstance(exc, ChannelError) else f"no answer within {POLL_TIMEOUT:.0f} s"
            health.state, health.reason = HealthState.DEGRADED, reason
            health.failures += 1
            health.next_attempt = now + timedelta(seconds=self._backoff(cfg.interval, health.failures))
        except Exception as exc:  # an adapter bug must degrade its channel, not the app
            log.exception("channel %s: unexpected error while polling", name)
            health.state, health.reason = HealthState.DEGRADED, f"internal error ({type(exc).__name__}); see the log"
            health.failures += 1
            health.next_attempt = now + timedelta(seconds=self._backoff(cfg.interval, health.failures))
        else:
            health.state, health.reason, health.failures = HealthState.OK, "", 0
            health.last_success = self.clock()
            health.new_last_poll = len(report.new_ids)
            health.skipped_last_poll = result.skipped
            if result.skipped:
                health.reason = f"skipped {result.skipped} malformed item(s) in the last poll"
            if result.warning:
                health.reason = "; ".join(r for r in (result.warning, health.reason) if r)
            if ruled:  # a rule that raised was skipped for those items: the poll itself went fine
                health.reason = "; ".join(r for r in (health.reason, ruled) if r)
            if result.error:  # stopped early: what was read is kept, the channel shows why
                health.state = HealthState.DEGRADED
                health.reason = "; ".join(r for r in (result.error, health.reason) if r)
            report.fetched = len(result.messages)
            wait = max(float(cfg.interval), result.next_poll_in or 0.0)
            health.next_attempt = now + timedelta(seconds=wait)
        # Every branch's reason as it is shown, not only as it is saved: a token in a next-page
        # link's host reached `poll --once` and the TUI's notice unmasked (hostile-data trial).
        health.reason = one_line(redactor.redact(health.reason))
        try:
            await asyncio.to_thread(self.store.set_health, name, health.to_doc())
        except CminboxError as exc:  # a full disk must not stop the loop: the report still shows it
            log.warning("channel %s: health not saved: %s", name, exc)
        if self.on_report is not None:
            maybe = self.on_report(report)
            if maybe is not None:
                await maybe
        return report

    def enabled(self) -> list[str]:
        return [n for n in self.channels if self.configs[n].enabled]

    async def poll_all_once(self) -> list[PollReport]:
        return list(await asyncio.gather(*(self.poll_channel(n) for n in self.enabled())))

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every enabled channel until ``stop`` is set."""
        for name in self.channels:
            if not self.configs[name].enabled:
                disabled = ChannelHealth(channel=name, state=HealthState.DISABLED, reason="disabled in the config")
                try:
                    await asyncio.to_thread(self.store.set_health, name, disabled.to_doc())
                except CminboxError as exc:  # the store went away: polling the others must not stop
                    log.warning("channel %s: health not saved: %s", name, exc)
        await asyncio.gather(*(self._loop(name, stop) for name in self.enabled()))

    async def _loop(self, name: str, stop: asyncio.Event) -> None:
        while not stop.is_set():
            report = await self.poll_channel(name)
            if report.health.state == HealthState.AUTH_FAILED:
                return  # stays stopped until the user fixes the token and restarts
            nxt = report.health.next_attempt
            delay = max(1.0, (nxt - self.clock()).total_seconds()) if nxt else float(self.configs[name].interval)
            await pause(stop, delay)
