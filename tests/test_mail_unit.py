"""The email channel's parsing and config checks, without a server (the edge cases)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.channels.mail import MailChannel, MailOptions
from cminbox.channels.mail_parse import build_reply, parse_mail, reply_subject
from cminbox.core import config
from cminbox.core.channel import BadResponse, ChannelContext, Rejected
from cminbox.core.clock import FrozenClock
from cminbox.core.config import ConfigError

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def parse(raw: bytes, uid: int = 1):  # type: ignore[no-untyped-def]
    return parse_mail(raw, channel="mail", uidvalidity=7, uid=uid, fallback_time=T0)


def test_hostile_headers_and_body_are_inert() -> None:
    raw = (
        b"From: =?utf-8?q?Evil_=1B[31m_[bold]x[/bold]?= <evil@example.org>\r\n"
        b"Subject: [link=http://x]click[/link] \x1b]0;title\x07\r\n"
        b"Date: not a date\r\n"
        b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
        b"body \x1b[2J\xe2\x80\xae reversed \x00 nul\r\n"
    )
    msg = parse(raw)
    for text in (msg.text, msg.author.display_name, msg.extra["subject"]):
        assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text and "\x07" not in text
    assert "[bold]" in msg.author.display_name  # kept as text; the TUI never interprets it
    assert msg.created_at == T0  # an unparseable Date falls back to the poll time
    assert msg.native_id == "u-7-1"  # no Message-ID: keyed by UIDVALIDITY and UID


def test_no_message_id_no_subject_empty_body() -> None:
    msg = parse(b"From: a@b.c\r\n\r\n")
    assert msg.text == "" and msg.thread_id == "" and msg.author.handle == "a@b.c"


def test_garbage_never_crashes_the_poll() -> None:
    msg = parse(b"\xff\xfe\x00garbage without headers")
    assert msg.author.handle == "unknown@invalid"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_to_inert_text_or_a_skippable_error(raw: bytes) -> None:
    try:
        msg = parse(raw)
    except (ValueError, TypeError, LookupError):
        return  # the poller counts these as skipped
    assert all(ch in "\n\t" or ch.isprintable() for ch in msg.text)


def test_reply_subject_and_threading_headers() -> None:
    assert reply_subject("Re: hello") == "Re: hello" and reply_subject("hello") == "Re: hello"
    original = parse(
        b"From: Ana <ana@x.org>\r\nReply-To: Help <help@x.org>\r\nSubject: Sync\r\n"
        b"Message-ID: <b@x.org>\r\nReferences: <a@x.org>\r\nIn-Reply-To: <a@x.org>\r\n\r\nline one\r\n"
    )
    reply = build_reply(original, "We fixed it.", sender="support@y.org", msgid="k1@y.org", now=T0)
    assert reply["To"] == "Help <help@x.org>"  # Reply-To wins
    assert reply["References"] == "<a@x.org> <b@x.org>" and reply["In-Reply-To"] == "<b@x.org>"
    assert "> line one" in reply.get_content()


def cfg(extra: str) -> config.Config:
    return config.parse(
        f'[[channels]]\nname = "support"\ntype = "email"\nurl = "imaps://mail.example.com"\n{extra}',
        Path("/etc/c.toml"),
    )


def test_email_config_is_checked_with_file_line_and_key() -> None:
    assert cfg('smtp_url = "smtp://mail.example.com:587"\n').channels[0].options.folder == "INBOX"
    with pytest.raises(ConfigError) as info:
        cfg("")
    assert info.value.key == "channels[0].smtp_url"
    with pytest.raises(ConfigError) as info:
        cfg('smtp_url = "mail.example.com"\n')
    assert "not an SMTP URL" in str(info.value)
    with pytest.raises(ConfigError) as info:
        config.parse('[[channels]]\nname = "s"\ntype = "email"\nurl = "https://x"\nsmtp_url = "smtp://x"\n', None)
    assert info.value.key == "channels[0].url" and "imaps" in str(info.value)


# Regressions (review of 2026-12-01, on Dovecot and aiosmtpd): each stopped the channel, broke
# threading, or was an internal error retried for ever.
def test_a_date_past_year_9999_in_its_zone_falls_back_to_the_poll_time() -> None:
    msg = parse(b"From: n@x.example\r\nDate: Fri, 31 Dec 9999 23:59:59 -2359\r\nSubject: far\r\n\r\nbody\r\n")
    assert msg.created_at == T0


def test_a_reply_to_that_does_not_parse_keeps_the_mail() -> None:
    msg = parse(
        b"From: a@x.example\r\nReply-To: =?utf-8?q?x=0D=0ABcc:_evil@x?= <rt2@x.example>\r\n"
        b"Subject: kept\r\n\r\nthe body\r\n"
    )
    assert "the body" in msg.text and msg.author.handle == "a@x.example"


def test_a_long_message_id_threads_as_a_msg_id() -> None:
    long = "DM6PR11MB4691D0A2B3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F9A0B1@DM6PR11MB4691.namprd11.prod.outlook.com"
    original = parse(f"From: a@x.example\r\nMessage-ID: <{long}>\r\nSubject: s\r\n\r\nb\r\n".encode())
    wire = build_reply(original, "ok", sender="s@y.org", msgid="k@y.org", now=T0).as_bytes()
    assert f"In-Reply-To: <{long}>".encode() in wire and f"References: <{long}>".encode() in wire
    assert b"=?utf-8?" not in wire


def test_an_international_reply_to_domain_goes_as_idna_and_a_local_part_is_refused() -> None:
    original = parse("From: a@x.example\r\nReply-To: Jörg <joerg@bücher.example>\r\n\r\nb\r\n".encode())
    reply = build_reply(original, "ok", sender="s@y.org", msgid="k@y.org", now=T0)
    assert "joerg@xn--bcher-kva.example" in str(reply["To"])
    utf8_local = parse("From: a@x.example\r\nReply-To: Jörg <jörg@bücher.example>\r\n\r\nb\r\n".encode())
    with pytest.raises(ValueError, match="SMTPUTF8"):
        build_reply(utf8_local, "ok", sender="s@y.org", msgid="k@y.org", now=T0)


def mail_channel() -> MailChannel:
    """A channel that never reaches a server (what is tested fails before it would)."""

    async def password() -> str:
        return "pw"

    context = ChannelContext(
        name="mail",
        url="imaps://127.0.0.1",
        account="s@y.org",
        options=MailOptions(),
        token=password,
        clock=FrozenClock(T0),
    )
    return MailChannel(context)


async def test_a_reply_no_smtp_can_address_is_rejected_not_retried() -> None:
    item = parse("From: a@x.example\r\nReply-To: <jörg@bücher.example>\r\n\r\nb\r\n".encode())
    with pytest.raises(Rejected, match="SMTPUTF8"):
        await mail_channel().reply(item, "hello", "key-1")


async def test_a_thread_search_for_a_non_ascii_message_id_is_a_bad_response() -> None:
    item = parse("From: n@x.example\r\nMessage-ID: <über-1@x.example>\r\n\r\nb\r\n".encode())
    with pytest.raises(BadResponse, match="not ASCII"):
        await mail_channel().thread(item)


def test_a_reply_body_keeps_its_encoded_lines_within_76() -> None:
    """Regression (review of the 998-character header policy): the policy's max_line_length is
    also the body's base64 line length; a long non-ASCII paragraph went out in 996-byte lines."""
    original = parse(b"From: a@x.example\r\nMessage-ID: <m@x.example>\r\nSubject: s\r\n\r\nb\r\n")
    wire = build_reply(original, "é" * 600, sender="s@y.org", msgid="k@y.org", now=T0).as_bytes()
    body = wire.split(b"\n\n", 1)[1]
    assert max(len(line) for line in body.splitlines()) <= 76
