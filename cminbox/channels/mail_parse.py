"""Raw RFC 5322 mail → cminbox Message, and the reply mail that answers one.

Pure functions (no network), so the parsing is tested on its own with hostile input.
Everything from the mail is untrusted: headers and bodies go through ``sanitize``, HTML
bodies through ``html_to_text``, and attachments are listed, never decoded or saved.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import hashlib
from datetime import datetime
from email.message import EmailMessage
from typing import Any

from cminbox.core.html_text import html_to_text
from cminbox.core.models import Author, Kind, Message, message_id, utc
from cminbox.core.text import sanitize

MAX_BODY = 20_000  # characters kept from one mail body
_ANGLE = str.maketrans("", "", "<> \t\r\n")


def clean_msgid(value: str | None) -> str:
    return (value or "").strip().translate(_ANGLE)


def native_id(msgid: str, uidvalidity: int, uid: int) -> str:
    """Stable across a mailbox resync (UIDVALIDITY change): the Message-ID when there is one."""
    if msgid:
        return "m-" + hashlib.sha256(msgid.encode()).hexdigest()[:20]
    return f"u-{uidvalidity}-{uid}"


def _body(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return content[:MAX_BODY]


def _attachments(mail: EmailMessage) -> list[str]:
    found = []
    for part in mail.iter_attachments():
        name = sanitize(part.get_filename() or part.get_content_type(), single_line=True)
        payload = part.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else 0
        found.append(f"{name} ({max(1, size // 1024)} KB)")
    return found


def parse_mail(raw: bytes, *, channel: str, uidvalidity: int, uid: int, fallback_time: datetime) -> Message:
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    msgid = clean_msgid(mail.get("Message-ID"))
    in_reply_to = clean_msgid(mail.get("In-Reply-To"))
    references = [clean_msgid(r) for r in str(mail.get("References") or "").split() if clean_msgid(r)]
    root = references[0] if references else (in_reply_to or msgid)
    name, address = _address(mail, "From")
    reply_name, reply_address = _address(mail, "Reply-To")
    subject = sanitize(str(mail.get("Subject") or ""), single_line=True)
    try:
        created = utc(email.utils.parsedate_to_datetime(str(mail.get("Date"))))
    except (TypeError, ValueError, IndexError, OverflowError):  # (year 9999 in a zone behind UTC)
        created = fallback_time
    body = sanitize(_body(mail)).strip()
    attachments = _attachments(mail)
    text = "\n\n".join(
        part for part in (subject, body, ("Attachments: " + ", ".join(attachments)) if attachments else "") if part
    )
    address = sanitize(address, single_line=True).lower() or "unknown@invalid"
    native = native_id(msgid, uidvalidity, uid)
    extra: dict[str, str] = {
        "subject": subject,
        "message_id": msgid,
        "references": " ".join(references),
        # Answers go to Reply-To when the mail names one, else to the sender.
        "reply_to": sanitize(reply_address, single_line=True) if reply_address else address,
        "reply_to_name": sanitize(reply_name if reply_address else name, single_line=True),
        "uid": str(uid),
    }
    return Message(
        id=message_id(channel, native),
        channel=channel,
        channel_type="email",
        native_id=native,
        kind=Kind.DIRECT,
        author=Author(id=address, handle=address, display_name=sanitize(name, single_line=True)),
        text=text,
        created_at=created,
        thread_id=message_id(channel, native_id(root, uidvalidity, uid)) if root else "",
        parent_id=message_id(channel, native_id(in_reply_to, uidvalidity, uid)) if in_reply_to else "",
        visibility="private",
        extra=extra,
    )


def reply_subject(subject: str) -> str:
    return subject if subject.lower().startswith("re:") else f"Re: {subject}".strip()


# Header lines up to RFC 5322's hard limit before folding (78 is a SHOULD), set once the body is
# encoded (build_reply): the default policy
# RFC 2047-encoded a Message-ID longer than 78 (Outlook's are ~95) in In-Reply-To and References,
# which no mail client reads as a msg-id, so replies did not thread (review of 2026-12-01).
REPLY_POLICY = email.policy.default.clone(max_line_length=998)


def _address(mail: EmailMessage, header: str) -> tuple[str, str]:
    """A header's (name, address); one that does not parse (an encoded CR LF in the name) is no
    address, rather than a mail dropped whole."""
    try:
        return email.utils.parseaddr(str(mail.get(header) or ""))
    except (ValueError, TypeError, IndexError):
        return "", ""


def _recipient(name: str, address: str) -> str:
    """The To of a reply: an internationalised domain goes as IDNA (punycode); a local part that
    is not ASCII needs SMTPUTF8, which this sender does not speak: a ValueError, said as such."""
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise ValueError(f"the address {address!r} is not ASCII before the @ (it needs SMTPUTF8)")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return email.utils.formataddr((name, f"{local}@{domain}" if local else address))


def build_reply(
    message: Message, text: str, *, sender: str, msgid: str, now: datetime, extra_headers: dict[str, Any] | None = None
) -> EmailMessage:
    """The answer to ``message``: threaded by In-Reply-To/References, quoting the original."""
    original = message.extra.get("message_id", "")
    references = [r for r in message.extra.get("references", "").split() if r]
    if original:
        references.append(original)
    reply = EmailMessage()  # the body encoded under the default policy: its lines stay within 76
    reply["From"] = sender
    reply["To"] = _recipient(message.extra.get("reply_to_name", ""), message.extra.get("reply_to", ""))
    reply["Subject"] = reply_subject(message.extra.get("subject", ""))
    reply["Date"] = email.utils.format_datetime(now)
    reply["Message-ID"] = f"<{msgid}>"
    if original:
        reply["In-Reply-To"] = f"<{original}>"
        reply["References"] = " ".join(f"<{r}>" for r in references[-20:])
    for key, value in (extra_headers or {}).items():
        reply[key] = value
    who = message.author.display_name or message.author.handle
    quoted = "\n".join("> " + line for line in message.text.splitlines())
    reply.set_content(f"{text}\n\nOn {message.created_at:%a, %d %b %Y %H:%M} UTC, {who} wrote:\n{quoted}\n")
    # Only the headers are written under the 998 limit: the policy's max_line_length is also the
    # body's base64/quoted-printable line length, which RFC 2045 keeps to 76 (set above).
    reply.policy = REPLY_POLICY
    return reply
