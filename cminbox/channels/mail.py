"""A support mailbox as a channel: IMAP in, SMTP out.

Polls one folder with ``UID SEARCH`` from the last UID seen; the cursor also keeps the
folder's ``UIDVALIDITY``, and a change means a resync from the start of the folder, not
duplicates (message ids come from the Message-ID header, which a resync does not change).
Mail is read with ``BODY.PEEK[]``, so flags are left alone unless ``mark_seen`` is set.
Replies go out over SMTP with In-Reply-To/References, a quote of the original, and a
Message-ID derived from the outbox item; with ``sent_folder`` set, a copy is saved there
and a retry first looks for that Message-ID, so a reply is never sent twice.

TLS: ``imaps://``/``smtps://`` use implicit TLS; ``imap://``/``smtp://`` require STARTTLS,
except to 127.0.0.1, where a server without it (a test server) is spoken to in plain.
stdlib imaplib/smtplib are blocking: every session runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

import msgspec

from cminbox.channels.declared.mail import DECLARATION, option_problems
from cminbox.channels.declared.mail import MailOptions as MailOptions
from cminbox.channels.mail_parse import build_reply, parse_mail
from cminbox.core.channel import (
    MALFORMED,
    AuthFailed,
    BadResponse,
    Capabilities,
    ChannelContext,
    ChannelError,
    ChannelTraits,
    Identity,
    OutgoingReply,
    PollResult,
    RateLimited,
    Rejected,
    ReplyReceipt,
    Unavailable,
    plain_reply,
)
from cminbox.core.http import server_text
from cminbox.core.models import Message
from cminbox.core.redact import redactor
from cminbox.core.urls import is_loopback

T = TypeVar("T")
TIMEOUT = 30.0
FETCH_BATCH = 50
MAX_PER_POLL = 500


def _port(url: str, tls_port: int, plain_port: int) -> tuple[str, int, bool]:
    parts = urlsplit(url)
    implicit_tls = parts.scheme.endswith("s")
    return parts.hostname or "", parts.port or (tls_port if implicit_tls else plain_port), implicit_tls


def _uids(answer: tuple[str, list[Any]], what: str) -> list[int]:
    """The UIDs of a ``UID SEARCH`` answer. A refusal (NO, BAD) or a token that is not a UID is
    the server's bad answer: before, int() of "[SERVERBUG]" was an internal error on every poll
    (review of 2026-12-02), and a refused search read as "nothing found"."""
    typ, data = answer
    if typ != "OK":
        raise BadResponse(f"{what}: the server refused the search ({server_text(str(typ), 20)})")
    uids = []
    for chunk in data:
        for token in (chunk or b"").split() if isinstance(chunk, bytes | None) else [b"?"]:
            if not token.isdigit() or len(token) > 10:  # bytes.isdigit: ASCII digits only
                raise BadResponse(f"{what}: the server's search answer is not a list of UIDs")
            uids.append(int(token))
    return uids


class MailChannel:
    type_name: ClassVar[str] = DECLARATION.type_name
    capabilities: ClassVar[Capabilities] = DECLARATION.capabilities
    Options: ClassVar[type[msgspec.Struct]] = MailOptions
    traits: ClassVar[ChannelTraits] = DECLARATION.traits

    @classmethod
    def check_options(cls, options: MailOptions) -> list[tuple[str, str, str]]:
        return option_problems(options)

    def __init__(self, ctx: ChannelContext) -> None:
        self.ctx = ctx
        self.options: MailOptions = ctx.options if isinstance(ctx.options, MailOptions) else MailOptions()
        self.login = self.options.username or ctx.account

    # ------------------------------------------------------------------ plumbing
    async def _password(self) -> str:
        secret = await self.ctx.token()
        if not secret:
            raise AuthFailed(
                f"no password for channel {self.ctx.name!r}: run `cminbox login {self.ctx.name}` "
                "or set token_command in the config"
            )
        redactor.add(secret)
        # SMTP AUTH PLAIN sends base64("\0login\0password"): the form a hostile server could echo.
        redactor.add(base64.b64encode(f"\0{self.login}\0{secret}".encode()).decode())
        return secret

    async def _in_thread(self, fn: Callable[[], T], what: str) -> T:
        try:
            return await asyncio.to_thread(fn)
        except ChannelError:
            raise
        except imaplib.IMAP4.abort as exc:
            raise Unavailable(f"{what}: the IMAP connection broke ({exc})") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthFailed(f"{what}: the SMTP server refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise Rejected(f"{what}: the recipient was refused ({list(exc.recipients.values())[:1]})") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:  # temporary: greylisting, rate limits
                raise RateLimited(f"{what}: SMTP {exc.smtp_code}", self.ctx.clock() + timedelta(minutes=5)) from None
            said = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise Rejected(f"{what}: SMTP {exc.smtp_code} {server_text(said, 80)!r}") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, reset, DNS, timeouts, TLS
            raise Unavailable(f"{what}: {type(exc).__name__}: {exc}") from None
        except imaplib.IMAP4.error as exc:
            raise BadResponse(f"{what}: {exc}") from None
        except UnicodeError as exc:  # a server's text that imaplib or smtplib cannot encode as ASCII
            raise BadResponse(f"{what}: {type(exc).__name__} on a non-ASCII value") from None

    def _imap(self, password: str) -> imaplib.IMAP4:
        host, port, implicit_tls = _port(self.ctx.url, 993, 143)
        context = ssl.create_default_context()
        conn: imaplib.IMAP4
        if implicit_tls:
            conn = imaplib.IMAP4_SSL(host, port, ssl_context=context, timeout=TIMEOUT)
        else:
            conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
            if "STARTTLS" in conn.capabilities:
                conn.starttls(context)
            elif not is_loopback(self.ctx.url):
                conn.logout()
                raise Unavailable(f"{host} offers no STARTTLS: refusing to send the password in plain text")
        try:
            conn.login(self.login, password)
        except imaplib.IMAP4.error as exc:
            conn.logout()
            raise AuthFailed(f"the IMAP server refused the login for {self.login!r}: {exc}") from None
        return conn

    def _select(self, conn: imaplib.IMAP4, folder: str, *, readonly: bool) -> int:
        typ, _ = conn.select(_quote(folder), readonly=readonly)
        if typ != "OK":
            raise Rejected(f"folder {folder!r} cannot be opened")
        _, validity = conn.response("UIDVALIDITY")
        try:
            return int(validity[0]) if validity and validity[0] else 0
        except (TypeError, ValueError):
            raise BadResponse(f"folder {folder!r}: UIDVALIDITY is not a number") from None

    async def aclose(self) -> None:
        return None  # each session connects and logs out; nothing stays open between polls

    async def whoami(self) -> Identity:
        password = await self._password()

        def check() -> Identity:
            conn = self._imap(password)
            try:
                self._select(conn, self.options.folder, readonly=True)
            finally:
                conn.logout()
            return Identity(id=self.ctx.account, handle=self.ctx.account)

        return await self._in_thread(check, "log in")

    # ------------------------------------------------------------------ polling
    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        password = await self._password()
        return await self._in_thread(lambda: self._poll(password, cursor or {}), "poll")

    def _poll(self, password: str, cursor: dict[str, Any]) -> PollResult:
        conn = self._imap(password)
        try:
            validity = self._select(conn, self.options.folder, readonly=not self.options.mark_seen)
            last = int(cursor.get("last_uid", 0)) if cursor.get("uidvalidity") == validity else 0
            if last:
                found = _uids(conn.uid("SEARCH", f"UID {last + 1}:*"), "new mail")
                uids = [u for u in found if u > last]  # "n:*" also matches the newest mail
            else:  # first use, or the folder was rebuilt: take the newest `backfill` mails again
                every = _uids(conn.uid("SEARCH", "ALL"), "new mail")
                uids = every[-self.options.backfill :] if self.options.backfill else []
            uids = sorted(uids)[:MAX_PER_POLL]
            messages, skipped = self._fetch(conn, uids, validity)
            if self.options.mark_seen and uids:
                conn.uid("STORE", ",".join(map(str, uids)), "+FLAGS", r"(\Seen)")
            newest = max(uids, default=last)
            return PollResult(messages=messages, cursor={"uidvalidity": validity, "last_uid": newest}, skipped=skipped)
        finally:
            conn.logout()

    def _fetch(self, conn: imaplib.IMAP4, uids: list[int], validity: int) -> tuple[list[Message], int]:
        messages: list[Message] = []
        skipped = 0
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            typ, data = conn.uid("FETCH", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
            if typ != "OK":
                raise BadResponse(f"FETCH failed: {data[:1]!r}")
            for item in data:
                if not isinstance(item, tuple) or len(item) < 2:
                    continue
                match = re.search(rb"UID (\d+)", item[0])
                if match is None:
                    skipped += 1
                    continue
                try:
                    messages.append(
                        parse_mail(
                            item[1],
                            channel=self.ctx.name,
                            uidvalidity=validity,
                            uid=int(match.group(1)),
                            fallback_time=self.ctx.clock(),
                        )
                    )
                except MALFORMED:  # (a Date past year 9999 in its zone overflowed: review of 2026-12-01)
                    skipped += 1
        return messages, skipped

    async def thread(self, message: Message) -> list[Message]:
        """Every mail of the conversation in the folder (by References and Message-ID)."""
        root = (message.extra.get("references", "").split() or [message.extra.get("message_id", "")])[0]
        if not root:
            return [message]
        if not root.isascii():  # imaplib sends search keys as ASCII (a UTF-8 search needs a literal)
            raise BadResponse(f"thread: the Message-ID {root[:60]!r} is not ASCII; the IMAP search cannot look it up")
        password = await self._password()

        def search() -> list[Message]:
            conn = self._imap(password)
            try:
                validity = self._select(conn, self.options.folder, readonly=True)
                found: set[int] = set()
                for header in ("Message-ID", "References", "In-Reply-To"):
                    found.update(_uids(conn.uid("SEARCH", "HEADER", header, _quote(root)), "thread"))
                mails, _ = self._fetch(conn, sorted(found), validity)
            finally:
                conn.logout()
            return sorted(mails or [message], key=lambda m: m.created_at)

        return await self._in_thread(search, "thread")

    # ------------------------------------------------------------------ replying
    @classmethod
    def outgoing_reply(cls, message: Message, text: str, options: msgspec.Struct | None) -> OutgoingReply:
        """The body is the text as typed; mail has no length limit."""
        return plain_reply(text, None)

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        password = await self._password()
        domain = self.ctx.account.rpartition("@")[2] or "cminbox.invalid"
        msgid = f"{idempotency_key}@{domain}"
        try:
            mail = build_reply(message, text, sender=self.ctx.account, msgid=msgid, now=self.ctx.clock())
        except (ValueError, UnicodeError) as exc:  # an address no plain SMTP can carry: said, not retried
            raise Rejected(f"reply: cannot address the mail ({exc}); reply from a mail client") from None

        def send() -> ReplyReceipt:
            folder = self.options.sent_folder
            if folder and self._already_sent(password, folder, msgid):
                return ReplyReceipt(native_id=msgid)
            self._smtp_send(password, mail)
            if folder:
                self._save_sent(password, folder, mail.as_bytes())
            return ReplyReceipt(native_id=msgid)

        return await self._in_thread(send, "reply")

    def _already_sent(self, password: str, folder: str, msgid: str) -> bool:
        conn = self._imap(password)
        try:
            typ, _ = conn.select(_quote(folder), readonly=True)
            if typ != "OK":
                return False  # no Sent folder yet: nothing was saved there
            return bool(_uids(conn.uid("SEARCH", "HEADER", "Message-ID", _quote(msgid)), "sent check"))
        finally:
            conn.logout()

    def _save_sent(self, password: str, folder: str, raw: bytes) -> None:
        conn = self._imap(password)
        try:
            conn.create(_quote(folder))  # harmless "already exists" when it is there
            conn.append(_quote(folder), r"(\Seen)", imaplib.Time2Internaldate(self.ctx.clock()), raw)
        finally:
            conn.logout()

    def _smtp_send(self, password: str, mail: Any) -> None:
        host, port, implicit_tls = _port(self.options.smtp_url, 465, 587)
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if implicit_tls:
            smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT, local_hostname=socket.gethostname())
        with smtp:
            smtp.ehlo()
            if not implicit_tls:
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif not is_loopback(self.options.smtp_url):
                    raise Unavailable(f"{host} offers no STARTTLS: refusing to send mail in plain text")
            if smtp.has_extn("auth"):
                smtp.login(self.login, password)
            smtp.send_message(mail)

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        raise Rejected("a mailbox has no moderation actions")


def _quote(value: str) -> str:
    """An IMAP quoted string (folder names and search keys may hold spaces)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
