"""The email channel against a real Dovecot IMAP server and an in-process aiosmtpd server."""

from __future__ import annotations

import email
import email.policy
import imaplib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cminbox.channels.mail import MailChannel, MailOptions
from cminbox.core.channel import AuthFailed, ChannelContext
from cminbox.core.clock import FrozenClock
from tests.conftest import cli_env, run_cli
from tests.servers.fixtures import MAIL_USERS, _free_port

pytestmark = pytest.mark.servers
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class Captured:
    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Captured, int]]:
    handler = Captured()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def imap(port: int, user: str) -> imaplib.IMAP4:
    conn = imaplib.IMAP4("127.0.0.1", port)
    conn.login(user, MAIL_USERS[user])
    return conn


def deliver(port: int, user: str, raw: bytes, folder: str = "INBOX") -> None:
    conn = imap(port, user)
    try:
        conn.create(f'"{folder}"')
        typ, _ = conn.append(f'"{folder}"', "", imaplib.Time2Internaldate(T0), raw)
        assert typ == "OK"
    finally:
        conn.logout()


def mail(
    n: int, *, subject: str = "Sync is broken", reply_to: str = "", html: bool = False, attach: bool = False
) -> bytes:
    m = EmailMessage()
    m["From"] = f"Customer {n} <customer{n}@example.org>"
    m["To"] = "support@lumen.test"
    m["Subject"] = subject
    m["Date"] = f"Fri, 27 Nov 2026 1{n % 10}:00:00 +0000"
    m["Message-ID"] = f"<mail-{n}@example.org>"
    if reply_to:
        m["In-Reply-To"] = f"<{reply_to}>"
        m["References"] = f"<{reply_to}>"
    if html:  # HTML only (with both, text/plain is preferred)
        m.set_content(f"<p>HTML body <b>{n}</b><script>alert(1)</script></p>", subtype="html")
    else:
        m.set_content(f"Body of mail {n}.\nSecond line \x1b[31mred\x1b[0m.")
    if attach:
        m.add_attachment(b"%PDF-1.4 " + b"x" * 3000, maintype="application", subtype="pdf", filename="invoice.pdf")
    return m.as_bytes()


def channel(port: int, user: str = "support", smtp_port: int = 9, **options: Any) -> MailChannel:
    async def password() -> str | None:
        return MAIL_USERS.get(user, "wrong")

    return MailChannel(
        ChannelContext(
            name=f"mail-{user}",
            url=f"imap://127.0.0.1:{port}",
            account=f"{user}@lumen.test",
            options=MailOptions(smtp_url=f"smtp://127.0.0.1:{smtp_port}", username=user, **options),
            token=password,
            clock=FrozenClock(T0),
        )
    )


def flags(port: int, user: str, folder: str = "INBOX") -> list[bytes]:
    conn = imap(port, user)
    try:
        conn.select(f'"{folder}"', readonly=True)
        _, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        return [d for d in data if d]
    finally:
        conn.logout()


async def test_poll_parses_threads_html_and_attachments_without_touching_flags(dovecot: int) -> None:
    folder = "Poll1"
    deliver(dovecot, "support", mail(1), folder)
    deliver(dovecot, "support", mail(2, subject="Re: Sync is broken", reply_to="mail-1@example.org"), folder)
    deliver(dovecot, "support", mail(3, subject="Invoice", html=True, attach=True), folder)
    ch = channel(dovecot, folder=folder)
    result = await ch.poll(None)
    by_subject = {m.extra["subject"]: m for m in result.messages}
    assert len(result.messages) == 3 and result.skipped == 0
    first, reply, invoice = by_subject["Sync is broken"], by_subject["Re: Sync is broken"], by_subject["Invoice"]
    assert reply.thread_id == first.thread_id == first.id and reply.parent_id == first.id
    assert first.author.handle == "customer1@example.org" and first.author.display_name == "Customer 1"
    assert "\x1b" not in first.text and "Second line" in first.text
    assert "HTML body 3" in invoice.text and "alert" not in invoice.text and "<b>" not in invoice.text
    assert "Attachments: invoice.pdf (2 KB)" in invoice.text
    assert all(b"\\Seen" not in f for f in flags(dovecot, "support", folder))  # read without altering flags
    # The next poll only sees what is new, exactly once.
    assert (await ch.poll(result.cursor)).messages == []
    deliver(dovecot, "support", mail(4), folder)
    again = await ch.poll(result.cursor)
    assert [m.extra["subject"] for m in again.messages] == ["Sync is broken"] and again.cursor != result.cursor


async def test_uidvalidity_change_resyncs_without_duplicates(dovecot: int) -> None:
    folder = "Rebuilt"
    for n in (11, 12):
        deliver(dovecot, "support", mail(n), folder)
    ch = channel(dovecot, folder=folder)
    first = await ch.poll(None)
    conn = imap(dovecot, "support")
    conn.delete(f'"{folder}"')  # the folder is rebuilt (a server migration, a restore): new UIDVALIDITY
    conn.logout()
    for n in (11, 12, 13):
        deliver(dovecot, "support", mail(n), folder)
    second = await ch.poll(first.cursor)
    assert second.cursor and first.cursor and second.cursor["uidvalidity"] != first.cursor["uidvalidity"]
    # The same mails come back with the same ids (the store ignores them); only mail 13 is new.
    assert {m.id for m in first.messages} < {m.id for m in second.messages}
    assert len({m.id for m in second.messages} - {m.id for m in first.messages}) == 1


async def test_reply_threads_quotes_saves_to_sent_and_is_never_sent_twice(
    dovecot: int, smtp: tuple[Captured, int]
) -> None:
    captured, smtp_port = smtp
    folder = "Replies"
    deliver(dovecot, "support", mail(21), folder)
    ch = channel(dovecot, smtp_port=smtp_port, folder=folder, sent_folder="Sent")
    [original] = (await ch.poll(None)).messages
    receipt = await ch.reply(original, "Thanks, we are on it.", "cminbox-outbox-item-1")
    [sent] = captured.mails
    assert sent["To"] == "Customer 21 <customer21@example.org>" and sent["Subject"] == "Re: Sync is broken"
    assert sent["In-Reply-To"] == "<mail-21@example.org>" and "<mail-21@example.org>" in sent["References"]
    assert sent["Message-ID"] == "<cminbox-outbox-item-1@lumen.test>" == f"<{receipt.native_id}>"
    body = sent.get_body(("plain",))
    assert body is not None and "> Body of mail 21." in body.get_content()
    # A retry of the same outbox item (after a crash) finds it in Sent and sends nothing.
    await ch.reply(original, "Thanks, we are on it.", "cminbox-outbox-item-1")
    assert len(captured.mails) == 1
    conn = imap(dovecot, "support")
    conn.select('"Sent"', readonly=True)
    _, data = conn.uid("SEARCH", "HEADER", "Message-ID", '"cminbox-outbox-item-1@lumen.test"')
    conn.logout()
    assert data[0].split()  # the copy is in Sent


async def test_two_mailboxes_side_by_side_and_a_wrong_password(dovecot: int) -> None:
    deliver(dovecot, "support", mail(31), "Side")
    deliver(dovecot, "press", mail(32, subject="Interview request"), "Side")
    support, press = channel(dovecot, "support", folder="Side"), channel(dovecot, "press", folder="Side")
    [a], [b] = (await support.poll(None)).messages, (await press.poll(None)).messages
    assert (a.channel, b.channel) == ("mail-support", "mail-press") and b.extra["subject"] == "Interview request"
    intruder = channel(dovecot, "nobody-here")
    with pytest.raises(AuthFailed, match="refused the login"):
        await intruder.poll(None)
    assert (await support.whoami()).handle == "support@lumen.test"


async def test_mark_seen_when_configured(dovecot: int) -> None:
    deliver(dovecot, "support", mail(41), "Seen")
    await channel(dovecot, folder="Seen", mark_seen=True).poll(None)
    assert all(b"\\Seen" in f for f in flags(dovecot, "support", "Seen"))


def test_cli_poll_list_and_reply_through_the_outbox(dovecot: int, smtp: tuple[Captured, int], tmp_path: Path) -> None:
    """The whole path as a user runs it: config, poll, list, reply (outbox → SMTP), exactly once."""
    captured, smtp_port = smtp
    deliver(dovecot, "support", mail(51, subject="Cannot log in"), "Cli")
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[[channels]]\nname = "support"\ntype = "email"\nurl = "imap://127.0.0.1:{dovecot}"\n'
        f'account = "support@lumen.test"\nusername = "support"\nfolder = "Cli"\nsent_folder = "Sent-cli"\n'
        f'smtp_url = "smtp://127.0.0.1:{smtp_port}"\ntoken_command = "printf {MAIL_USERS["support"]}"\n'
    )
    env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
    polled = run_cli("poll", "--once", env=env)
    assert polled.returncode == 0, polled.stdout + polled.stderr
    assert run_cli("poll", "--once", env=env).returncode == 0  # nothing twice
    listed = json.loads(run_cli("list", "--json", env=env).stdout)
    assert [m["text"].splitlines()[0] for m in listed] == ["Cannot log in"]
    replied = run_cli("reply", listed[0]["id"], "--text", "Try resetting your password.", env=env)
    assert replied.returncode == 0, replied.stdout + replied.stderr
    [sent] = captured.mails
    assert sent["In-Reply-To"] == "<mail-51@example.org>" and sent["Subject"] == "Re: Cannot log in"
    assert run_cli("outbox", "flush", env=env).returncode == 0
    assert len(captured.mails) == 1
