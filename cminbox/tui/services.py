"""What the screens need from the core, bundled (so screens do not reach into the App)."""

from __future__ import annotations

from dataclasses import dataclass

from cminbox.core import registry
from cminbox.core.channel import Capabilities
from cminbox.core.clock import Clock
from cminbox.core.config import Config
from cminbox.core.engine import Engine
from cminbox.core.inbox import Inbox
from cminbox.core.store_api import StoreApi


@dataclass
class Services:
    config: Config
    inbox: Inbox
    engine: Engine | None
    clock: Clock

    @property
    def store(self) -> StoreApi:
        return self.inbox.store

    def capabilities(self, channel: str) -> Capabilities:
        try:
            cfg = self.config.channel(channel)
            caps: Capabilities = registry.load_channel(cfg.type).capabilities
            return caps
        except Exception:
            return Capabilities(reply=False)
