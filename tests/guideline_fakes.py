"""Channel fakes for the guideline follow-up: one with private messages, one that can only
reply, one that can do neither. Their "server" keeps what was posted and, like Mastodon's
``Idempotency-Key``, answers a repeated key with the first post instead of a second one, so a
test can tell one delivery from two (``posts``) and one call from two (``calls``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from typing import Any, ClassVar

import msgspec
import pytest

from cminbox.core import config, registry
from cminbox.core.channel import (
    Capabilities,
    ChannelContext,
    ChannelTraits,
    Identity,
    OutgoingReply,
    PollResult,
    Rejected,
    ReplyReceipt,
    Unavailable,
)
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message


@dataclass
class Server:
    posts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key -> (how, message id, text)
    calls: list[str] = field(default_factory=list)  # "dm:KEY", "reply:KEY", "moderate:ACTION"
    # Answers the next moderations get: an exception to raise, or None for success.
    moderation_results: list[Exception | None] = field(default_factory=list)

    def post(self, how: str, message: Message, text: str, key: str) -> ReplyReceipt:
        self.calls.append(f"{how}:{key}")
        self.posts.setdefault(key, (how, message.id, text))
        return ReplyReceipt(native_id=f"n-{list(self.posts).index(key)}", url=f"https://x.example/{key}")

    def sent(self) -> list[tuple[str, str, str]]:
        return list(self.posts.values())


SERVER = Server()


class _Fake:
    type_name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities(reply_limit=180, moderation=("remove", "lock"))
    Options: ClassVar[type[msgspec.Struct] | None] = None
    traits: ClassVar[ChannelTraits] = ChannelTraits(guideline_actions=("remove",))

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx

    async def whoami(self) -> Identity:
        return Identity(id="1", handle="@team")

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        return PollResult(messages=[], cursor=cursor)

    async def thread(self, message: Message) -> list[Message]:
        return [message]

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        body = f"{message.author.handle} {text}"
        return OutgoingReply(text=body, length=len(body), limit=cls.capabilities.reply_limit, added="the mention")

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        return SERVER.post("reply", message, text, idempotency_key)

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        SERVER.calls.append(f"moderate:{action}")
        result = SERVER.moderation_results.pop(0) if SERVER.moderation_results else None
        if result is not None:
            raise result

    async def aclose(self) -> None:
        pass


class DmFake(_Fake):
    type_name: ClassVar[str] = "dmfake"
    traits: ClassVar[ChannelTraits] = ChannelTraits(direct_messages=True, guideline_actions=("remove",))

    @classmethod
    def outgoing_direct(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        out = cls.outgoing_reply(message, text, options)
        return OutgoingReply(text=out.text, length=out.length, limit=out.limit, visibility="direct", added=out.added)

    async def direct_message(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        return SERVER.post("dm", message, text, idempotency_key)


class ReplyFake(_Fake):
    type_name: ClassVar[str] = "replyfake"


class MuteFake(_Fake):
    type_name: ClassVar[str] = "mutefake"
    capabilities: ClassVar[Capabilities] = Capabilities(reply=False, moderation=("remove",))


FAKES: dict[str, type] = {"dmfake": DmFake, "replyfake": ReplyFake, "mutefake": MuteFake}

CONFIG = """
[team]
me = "ana"
[[channels]]
name = "dm"
type = "dmfake"
url = "https://x.example"
[[channels]]
name = "rep"
type = "replyfake"
url = "https://x.example"
[[channels]]
name = "mute"
type = "mutefake"
url = "https://x.example"
[[guidelines]]
name = "be-kind"
text = "Be kind to each other."
url = "https://x.example/rules#kind"
[[guidelines]]
name = "no-spam"
text = "No advertising, please."
follow_up = "{author.name}: removed ({action}) per {guideline.name}."
[[guidelines]]
name = "long"
text = "{}"
"""


@pytest.fixture
def fake_channels(monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """Register the fakes as entry points, so they load through the registry's real path."""
    real: Callable[[str], dict[str, Any]] = registry._names
    ours = {
        name: EntryPoint(name=name, value=f"{__name__}:{cls.__name__}", group=registry.CHANNEL_GROUP)
        for name, cls in FAKES.items()
    }

    def names(group: str) -> dict[str, Any]:
        return {**real(group), **ours} if group == registry.CHANNEL_GROUP else real(group)

    monkeypatch.setattr(registry, "_names", names)
    SERVER.posts.clear()
    SERVER.calls.clear()
    SERVER.moderation_results.clear()
    yield SERVER


def guideline_config() -> config.Config:
    return config.parse(CONFIG.replace('text = "{}"', 'text = "' + "x" * 200 + '"'))


def context(name: str) -> ChannelContext:
    async def token() -> str | None:
        return "t"

    return ChannelContext(name, "https://x.example", "me", None, token, FrozenClock(datetime(2025, 1, 1, tzinfo=UTC)))


def channels() -> dict[str, Any]:
    return {"dm": DmFake(context("dm")), "rep": ReplyFake(context("rep")), "mute": MuteFake(context("mute"))}


__all__ = ["SERVER", "Rejected", "Unavailable", "channels", "fake_channels", "guideline_config"]
