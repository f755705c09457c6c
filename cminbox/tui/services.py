"""What the screens need from the core, bundled (so screens do not reach into the App)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from cminbox.core import registry
from cminbox.core.channel import Capabilities
from cminbox.core.clock import Clock
from cminbox.core.config import Config
from cminbox.core.inbox import Inbox
from cminbox.core.store_api import StoreApi

if TYPE_CHECKING:
    from cminbox.core.engine import Engine
    from cminbox.core.people_ops import PeopleOps
    from cminbox.tui.first_read import EarlyRead


@dataclass
class Services:
    config: Config
    inbox: Inbox
    engine: Engine | None
    clock: Clock
    # Builds the engine once the first rows are on screen (the launcher's way): the channel
    # adapters, their HTTP client and the rules are imported on a worker then, not before the
    # first frame (~0.1 s: issue #14). None: no engine, or ``engine`` was given built.
    make_engine: Callable[[], Engine] | None = None
    # The first screen's read, started by the launcher; taken by the inbox screen's loader.
    early_read: EarlyRead | None = None

    @property
    def engine_starting(self) -> bool:
        return self.engine is None and self.make_engine is not None

    @property
    def store(self) -> StoreApi:
        return self.inbox.store

    @cached_property
    def people_ops(self) -> PeopleOps:
        """One for the launcher's first read and the inbox screen (staff and rules derived once)."""
        from cminbox.core.people_ops import PeopleOps

        return PeopleOps.of(self.config, self.store, self.clock)

    def capabilities(self, channel: str) -> Capabilities:
        try:
            cfg = self.config.channel(channel)
            caps: Capabilities = registry.declaration(cfg.type).capabilities
            return caps
        except Exception:
            return Capabilities(reply=False)
