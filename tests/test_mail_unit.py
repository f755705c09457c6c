"""The email channel's parsing and config checks, without a server (the edge cases)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cminbox.channels.mail_parse import build_reply, parse_mail, reply_subject
from cminbox.core import config
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
