"""Optional channel features are declared (ChannelTraits), not discovered: a method a channel
has without declaring it is never called, every built-in declares its traits in its own class
body, and a third-party class written before traits existed still loads and behaves as before."""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from cminbox.core import config, registry
from cminbox.core.channel import (
    Capabilities,
    ChannelContext,
    ChannelDeclaration,
    ChannelTraits,
    Identity,
    OutgoingReply,
    PollResult,
    ReplyReceipt,
    mark_read_of,
    option_problems,
    password_login_of,
)
from cminbox.core.clock import FrozenClock
from cminbox.core.dispatch import Dispatcher
from cminbox.core.inbox import Inbox
from cminbox.core.models import Message, Status
from cminbox.core.outbox import MARK_READ, Outbox, OutboxKind, OutboxStatus
from cminbox.core.store import Store
from tests.factories import make_message

ROOT = Path(__file__).resolve().parent.parent


class QuietOptions(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    mark_read_on_done: bool = True


class _Base:
    """The protocol's required part, as a minimal third party would write it."""

    type_name: ClassVar[str] = "base"
    capabilities: ClassVar[Capabilities] = Capabilities()
    marked: ClassVar[list[str]] = []

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx

    async def whoami(self) -> Identity:
        return Identity(id="1", handle="@me")

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        return PollResult(messages=[], cursor=cursor)

    async def thread(self, message: Message) -> list[Message]:
        return [message]

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        return OutgoingReply(text=text, length=len(text), limit=None)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        return ReplyReceipt(native_id="r1")

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        pass

    async def aclose(self) -> None:
        pass


class QuietChannel(_Base):
    """Has every optional method, declares none of them."""

    type_name: ClassVar[str] = "quiet"
    Options: ClassVar[type[msgspec.Struct] | None] = QuietOptions
    traits: ClassVar[ChannelTraits] = ChannelTraits(marks_read=False)

    async def mark_read(self, message: Message) -> None:
        self.marked.append(message.id)

    async def password_login(self, user: str, password: str) -> str:
        raise AssertionError("not declared: never called")

    @classmethod
    def check_options(cls, options: Any) -> list[tuple[str, str, str]]:
        raise AssertionError("not declared: never called")


class LoudChannel(QuietChannel):
    """The same, declaring mark_read."""

    type_name: ClassVar[str] = "loud"
    traits: ClassVar[ChannelTraits] = ChannelTraits(marks_read=True)


class LegacyPlainChannel(_Base):
    """A third party's channel from before traits: the protocol only, no Options, no traits."""

    type_name: ClassVar[str] = "legacy-plain"


class LegacyHooksChannel(_Base):
    """A pre-traits channel that used the hooks cminbox once looked for by name."""

    type_name: ClassVar[str] = "legacy-hooks"
    Options: ClassVar[type[msgspec.Struct] | None] = QuietOptions
    url_schemes: ClassVar[tuple[str, ...]] = ("gopher",)
    needs_secret: ClassVar[bool] = False
    sends_secrets: ClassVar[bool] = False
    secret_label: ClassVar[str] = "Passphrase"

    async def mark_read(self, message: Message) -> None:
        self.marked.append(message.id)

    @classmethod
    def check_options(cls, options: Any) -> list[tuple[str, str, str]]:
        return [("mark_read_on_done", "legacy checks still run.", "")]


FAKES: dict[str, type] = {
    "quiet": QuietChannel,
    "loud": LoudChannel,
    "legacy-plain": LegacyPlainChannel,
    "legacy-hooks": LegacyHooksChannel,
}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the fakes as entry points, so they load through the registry's real path."""
    real: Callable[[str], dict[str, Any]] = registry._names
    ours = {
        name: EntryPoint(name=name, value=f"{__name__}:{cls.__name__}", group=registry.CHANNEL_GROUP)
        for name, cls in FAKES.items()
    }

    def names(group: str) -> dict[str, Any]:
        return {**real(group), **ours} if group == registry.CHANNEL_GROUP else real(group)

    monkeypatch.setattr(registry, "_names", names)
    _Base.marked.clear()


def channel_config(type_name: str, extra: str = "") -> config.Config:
    return config.parse(f'[[channels]]\nname = "ch"\ntype = "{type_name}"\nurl = "https://x.example"\n{extra}')


def context(name: str = "ch") -> ChannelContext:
    async def token() -> str | None:
        return "t"

    return ChannelContext(name, "https://x.example", "me", None, token, FrozenClock(datetime(2025, 1, 1, tzinfo=UTC)))


def test_every_registered_channel_type_declares_its_traits_in_its_own_class() -> None:
    for type_name in registry.channel_types():
        cls = registry._names(registry.CHANNEL_GROUP)[type_name].load()
        assert "traits" in vars(cls), f"{type_name}: {cls.__name__} declares no `traits`"
        assert isinstance(cls.traits, ChannelTraits)
        assert cls not in registry.PRE_TRAITS


def test_declared_optional_methods_exist() -> None:
    """A flag promises its method: each built-in that declares one has it."""
    for type_name in registry.channel_types():
        cls = registry.load_channel(type_name)
        t = cls.traits
        promised = {
            "mark_read": t.marks_read,
            "password_login": t.supports_password_login,
            "check_options": t.checks_options,
        }
        for method, flag in promised.items():
            assert not flag or method in vars(cls), f"{type_name} declares {method} but has none"


def test_an_undeclared_mark_read_is_never_queued(fakes: None, tmp_path: Path, clock: FrozenClock) -> None:
    cfg = config.parse(
        '[[channels]]\nname = "q"\ntype = "quiet"\nurl = "https://q.example"\n'
        '[[channels]]\nname = "l"\ntype = "loud"\nurl = "https://l.example"\n'
    )
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(1, channel="q"), make_message(1, channel="l")])
    outbox = Outbox(tmp_path, store.lock, clock=clock)
    Inbox(cfg, store, outbox, clock).set_status(["q:1", "l:1"], Status.DONE)
    assert [(i.destination, i.payload["action"]) for i in outbox.items()] == [("l", MARK_READ)]


async def test_an_undeclared_mark_read_is_never_called(fakes: None, tmp_path: Path, clock: FrozenClock) -> None:
    store = Store(tmp_path, clock=clock)
    store.upsert_messages([make_message(1, channel="q"), make_message(1, channel="l")])
    outbox = Outbox(tmp_path, store.lock, clock=clock)
    outbox.enqueue_many(
        OutboxKind.ACTION, [("q:1", "q", {"action": MARK_READ}), ("l:1", "l", {"action": MARK_READ})], "ana"
    )
    channels: dict[str, Any] = {"q": QuietChannel(context("q")), "l": LoudChannel(context("l"))}
    done = {d.item.destination: d for d in await Dispatcher(store, outbox, channels, {}, clock).deliver_due()}
    assert _Base.marked == ["l:1"]
    assert done["l"].ok and not done["q"].ok and "cannot mark items read" in done["q"].detail
    failed = outbox.get(done["q"].item.id)
    assert failed is not None and failed.status == OutboxStatus.FAILED


def test_the_accessors_ask_only_the_declaration(fakes: None) -> None:
    quiet, loud = QuietChannel(context()), LoudChannel(context())
    assert mark_read_of(quiet) is None and password_login_of(quiet) is None
    assert mark_read_of(loud) is not None
    assert option_problems(ChannelDeclaration.of(QuietChannel), QuietOptions()) == []


def test_a_channel_without_traits_loads_with_the_old_defaults(fakes: None) -> None:
    cls = registry.load_channel("legacy-plain")
    assert cls.traits == ChannelTraits() and cls.Options is None and cls in registry.PRE_TRAITS
    assert channel_config("legacy-plain").channels[0].options is None
    with pytest.raises(config.ConfigError, match="unknown key `mark_read_on_done`"):
        channel_config("legacy-plain", "mark_read_on_done = true")
    with pytest.raises(config.ConfigError, match="plain http"):
        config.parse('[[channels]]\nname = "ch"\ntype = "legacy-plain"\nurl = "http://x.example"\n')
    with pytest.raises(config.ConfigError, match="has no `url`"):
        config.parse('[[channels]]\nname = "ch"\ntype = "legacy-plain"\n')
    assert mark_read_of(cls(context())) is None and password_login_of(cls(context())) is None


def test_a_pre_traits_channel_keeps_the_hooks_it_had(fakes: None) -> None:
    cls = registry.load_channel("legacy-hooks")
    assert cls.traits == ChannelTraits(
        url_schemes=("gopher",),
        needs_secret=False,
        sends_secrets=False,
        secret_label="Passphrase",
        marks_read=True,
        checks_options=True,
    )
    assert mark_read_of(cls(context())) is not None
    with pytest.raises(config.ConfigError, match="legacy checks still run"):
        config.parse('[[channels]]\nname = "ch"\ntype = "legacy-hooks"\nurl = "gopher://x.example"\n')


HOOK_NAMES = {
    "Options",
    "traits",
    "url_schemes",
    "needs_url",
    "sends_secrets",
    "needs_secret",
    "secret_label",
    "login_secrets",
    "mark_read",
    "password_login",
    "check_options",
}


def test_no_code_discovers_a_channel_feature_by_name() -> None:
    """Outside the registry's pre-traits shim, no getattr/hasattr names a channel hook."""
    found = []
    for path in (ROOT / "cminbox").rglob("*.py"):
        if path == ROOT / "cminbox" / "core" / "registry.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("getattr", "hasattr")
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in HOOK_NAMES
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}(..., {node.args[1].value!r})")
    assert found == []


def test_a_third_party_type_is_declared_by_its_class(fakes: None) -> None:
    """No declaration entry of its own: the registry reads the class (and its checks)."""
    declared = registry.declaration("loud")
    assert declared == ChannelDeclaration.of(LoudChannel) and declared.traits is LoudChannel.traits
    legacy = registry.declaration("legacy-hooks")
    assert legacy.traits.checks_options and legacy.check_options is not None
