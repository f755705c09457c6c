"""The one small protocol every channel implements, and the errors it may raise.

A channel adapter turns one remote API into :class:`~cminbox.core.models.Message`
values. It never touches the store or the UI: the poller persists what ``poll``
returns and the outbox calls ``reply``. Errors are classified so the poller can
degrade exactly that channel with the right backoff.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast, runtime_checkable

import msgspec

from cminbox.core.errors import CminboxError
from cminbox.core.models import Message
from cminbox.core.redact import redactor
from cminbox.core.text import sanitize

if TYPE_CHECKING:  # the clock module imports asyncio: config checks read this module without it
    from cminbox.core.clock import Clock


class ChannelError(CminboxError):
    """Base class: ``reason`` is a short sentence fit for the health table.

    A reason often quotes the server (an error body, a link, a host): it is made one inert
    line and every secret the process holds is redacted here, the one place every channel's
    and target's error passes through on its way to the UI, the log and the state files.
    Sanitizing first matters: stripping control characters could otherwise join the pieces
    of a token that a hostile server split with them.
    """

    def __init__(self, reason: str) -> None:
        clean = redactor.redact(sanitize(reason, single_line=True))
        super().__init__(clean)
        self.reason = clean


class AuthFailed(ChannelError):
    """The token is missing, wrong, expired or revoked. Retrying will not help."""


class RateLimited(ChannelError):
    def __init__(self, reason: str, retry_at: datetime) -> None:
        super().__init__(reason)
        self.retry_at = retry_at


class Unavailable(ChannelError):
    """Timeouts, connection failures and 5xx: transient, retry with backoff."""


class BadResponse(ChannelError):
    """The server answered something we cannot use (garbage JSON, an HTML error page, ...)."""


# What reading a server's JSON item by hand raises when the item is not what the API describes
# (a number where an object was due: AttributeError on its .get; a short list: IndexError; a
# charset no codec knows: LookupError, which KeyError and IndexError are too): an adapter skips
# such an item, or says BadResponse, and never lets it out as an internal error.
MALFORMED: tuple[type[Exception], ...] = (LookupError, TypeError, ValueError, AttributeError, OverflowError)


class Rejected(ChannelError):
    """The server refused this specific request (e.g. 403/422 on a reply): do not retry it."""


class Capabilities(msgspec.Struct, frozen=True):
    reply: bool = True
    reply_limit: int | None = None  # characters (or graphemes) a reply may hold
    thread: bool = True
    moderation: tuple[str, ...] = ()
    # (action, what its reason may be): shown where the user types the reason.
    moderation_reasons: tuple[tuple[str, str], ...] = ()
    reply_is_public: bool = True


class ChannelTraits(msgspec.Struct, frozen=True):
    """What a channel *type* declares about its optional features, next to its ``capabilities``.

    Every caller (config validation, ``cminbox login``/``doctor``, the inbox, the dispatcher)
    asks this declaration, never the class or the object for an attribute it may or may not
    have. The optional methods are gated by their flag: ``marks_read`` promises
    ``mark_read`` (:class:`MarksRead`), ``supports_password_login`` promises ``password_login``
    (:class:`PasswordLogin`), ``checks_options`` promises the classmethod ``check_options``
    (:class:`ChecksOptions`). A method a channel has without declaring it is never called
    (a flag set without its method fails loudly when used); the accessors below are the one
    place that turns a flag into a call. Gating keeps the main protocol small: a channel
    that cannot mark read does not carry a do-nothing ``mark_read``.

    The defaults are what cminbox assumed of a channel before traits existed, so a channel
    that implements only the :class:`Channel` protocol needs no declaration to behave as it
    always did; ``registry.load_channel`` gives an undeclared (pre-traits) third-party class
    its traits once, when it is loaded (see ``cminbox.core.registry``).
    """

    # config: the schemes `url` may use; whether `url` is required (False: the channel has a
    # default server, e.g. api.github.com); whether a secret travels to that URL (True: a
    # plain-http URL is refused).
    url_schemes: tuple[str, ...] = ("https", "http")
    needs_url: bool = True
    sends_secrets: bool = True
    # `cminbox login`: whether the channel needs a stored secret at all, what to call it in
    # the prompt, whether `--password` can trade the account's password for it, and which
    # further secrets that login asks for (passed to password_login as keyword arguments).
    needs_secret: bool = True
    secret_label: str = "Token"  # noqa: S105 (a prompt label, not a secret)
    supports_password_login: bool = False
    login_secrets: tuple[str, ...] = ()
    # The channel can mark an item read on its server (`mark_read_on_done`).
    marks_read: bool = False
    # The channel checks its options beyond their types (check_options), at config load.
    checks_options: bool = False
    # The channel can send its author a private message (direct_message, :class:`DirectMessages`):
    # a guideline follow-up goes there rather than in a public reply.
    direct_messages: bool = False
    # The moderation actions that take content away or report it (hide, remove, report ...):
    # after these, cminbox offers to tell the author which guideline applied.
    guideline_actions: tuple[str, ...] = ()


# The optional methods, each promised by one ChannelTraits flag.
class MarksRead(Protocol):
    async def mark_read(self, message: Message) -> None: ...


class PasswordLogin(Protocol):
    async def password_login(self, user: str, password: str, **secrets: str) -> str:
        """Trade the account's password (and the ``login_secrets``) for the secret to store."""
        ...


OptionProblem = tuple[str, str, str]  # (key, problem, hint)


class ChecksOptions(Protocol):
    @classmethod
    def check_options(cls, options: Any) -> list[OptionProblem]: ...


class OutgoingReply(msgspec.Struct, frozen=True):
    """What a channel will post for a reply: the exact text (with what the channel adds, such
    as Mastodon's leading @mention), its length in the channel's unit, and the channel's limit.
    The composer's counter, the check before queueing and the channel's own send all use it,
    so a reply that fits the counter is never refused for its length later."""

    text: str
    length: int
    limit: int | None
    unit: str = "characters"
    visibility: str = ""
    # What the channel adds to the typed text, for the user ("the @mention @ana@example.social").
    added: str = ""

    @property
    def left(self) -> int | None:
        return None if self.limit is None else self.limit - self.length

    @property
    def too_long(self) -> bool:
        return self.limit is not None and self.length > self.limit

    def refusal(self, where: str) -> str:
        """Why the reply cannot be sent as it is (only meaningful when ``too_long``)."""
        with_added = f" (with {self.added})" if self.added else ""
        return (
            f"the reply is {self.length} {self.unit} as sent{with_added}; {where} allows {self.limit} {self.unit}: "
            f"shorten it by {self.length - (self.limit or 0)}"
        )


def plain_reply(text: str, limit: int | None) -> OutgoingReply:
    """A channel that posts the text as typed, counted in code points."""
    return OutgoingReply(text=text, length=len(text), limit=limit)


class PollResult(msgspec.Struct):
    messages: list[Message]
    cursor: dict[str, Any] | None
    # The server may ask us to come back no sooner than this (e.g. GitHub's X-Poll-Interval).
    next_poll_in: float | None = None
    # Items the adapter had to skip (malformed), reported in the channel's health.
    skipped: int = 0
    # A part of the channel that could not be read while the rest was (e.g. a moderators-only
    # source with a non-moderator key): shown as the channel's health reason.
    warning: str = ""
    # The poll stopped early for this reason (a foreign or repeating next-page link): what was
    # read is kept, and the channel shows as degraded with this reason.
    error: str = ""


class ReplyReceipt(msgspec.Struct, frozen=True):
    native_id: str
    url: str = ""


class Identity(msgspec.Struct, frozen=True):
    """Who the token belongs to (for `cminbox doctor` and to recognise our own posts)."""

    id: str
    handle: str
    extra: dict[str, str] = msgspec.field(default_factory=dict)


TokenProvider = Callable[[], Awaitable[str | None]]


class ChannelContext(msgspec.Struct):
    name: str
    url: str
    account: str
    options: msgspec.Struct | None
    token: TokenProvider
    clock: Clock
    # Tests may swap in a mock transport; production always uses the default (TLS verified).
    transport: Any = None
    # Where a channel whose credentials rotate (a refreshed session) stores the new secret.
    save_token: Callable[[str], Awaitable[None]] | None = None


@runtime_checkable
class Channel(Protocol):
    type_name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    # Extra per-type config keys, validated by config.py (a msgspec Struct, forbid_unknown_fields).
    Options: ClassVar[type[msgspec.Struct] | None]
    # The optional features, declared (see ChannelTraits): asked, never discovered.
    traits: ClassVar[ChannelTraits]

    def __init__(self, ctx: ChannelContext) -> None: ...

    async def whoami(self) -> Identity: ...

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult: ...

    async def thread(self, message: Message) -> list[Message]: ...

    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """The exact reply the channel will send for ``text`` (no I/O: the CLI and the TUI call
        it on the class, with the channel's configured options, before queueing)."""
        ...

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt: ...

    async def moderate(self, message: Message, action: str, reason: str) -> None: ...

    async def aclose(self) -> None: ...


def mark_read_of(channel: Channel) -> Callable[[Message], Awaitable[None]] | None:
    """The channel's ``mark_read`` when its traits declare one, else None."""
    return cast(MarksRead, channel).mark_read if channel.traits.marks_read else None


def password_login_of(channel: Channel) -> Callable[..., Awaitable[str]] | None:
    """The channel's ``password_login`` when its traits declare one, else None."""
    return cast(PasswordLogin, channel).password_login if channel.traits.supports_password_login else None


class ChannelDeclaration(msgspec.Struct, frozen=True):
    """What a channel type declares, importable without the channel's code: its config keys
    (``Options``), ``capabilities``, ``traits`` and the checks on its options. Loading the config,
    ``cminbox list`` and the TUI's first frame read this and never import the adapter, its
    HTTP client or its parsers (~0.15 s of imports: issue #14). Built-in types declare theirs in
    cminbox/channels/declared/, found through ``registry.BUILT_IN``; the channel class carries
    the same objects as its class attributes. A third-party type is described from its class
    (``registry.declaration``)."""

    type_name: str
    capabilities: Capabilities
    traits: ChannelTraits
    Options: type[msgspec.Struct] | None = None
    # Promised by traits.checks_options: the problems beyond the options' types.
    check_options: Callable[[Any], list[OptionProblem]] | None = None

    @classmethod
    def of(cls, channel: type[Channel]) -> ChannelDeclaration:
        """The declaration a channel class makes with its class attributes."""
        checks = cast(type[ChecksOptions], channel).check_options if channel.traits.checks_options else None
        return cls(channel.type_name, channel.capabilities, channel.traits, channel.Options, checks)


def option_problems(declared: ChannelDeclaration, options: msgspec.Struct | None) -> list[OptionProblem]:
    """What the channel type finds wrong in its options (nothing when it declares no checks)."""
    if not declared.traits.checks_options:
        return []
    if declared.check_options is None:
        raise TypeError(f"channel type {declared.type_name!r} declares checks_options without check_options")
    return declared.check_options(options)


class DirectMessages(Protocol):
    """Promised by ``ChannelTraits.direct_messages``: a private message to a message's author."""

    @classmethod
    def outgoing_direct(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """The exact private message sent for ``text`` (no I/O), counted in the channel's unit."""
        ...

    async def direct_message(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt: ...


def outgoing_direct_of(
    cls: type[Channel],
) -> Callable[[Message, str, msgspec.Struct | None], OutgoingReply] | None:
    """The channel type's ``outgoing_direct`` when its traits declare private messages, else None."""
    return cast(type[DirectMessages], cls).outgoing_direct if cls.traits.direct_messages else None


def direct_message_of(channel: Channel) -> Callable[[Message, str, str], Awaitable[ReplyReceipt]] | None:
    """The channel's ``direct_message`` when its traits declare private messages, else None."""
    return cast(DirectMessages, channel).direct_message if channel.traits.direct_messages else None
