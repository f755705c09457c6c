"""Keeping secrets out of logs, error messages and state files.

A registry of every secret value the process holds (tokens, passwords, session JWTs)
and the forms a server could echo back (URL-encoded, JSON-escaped, base64, the Basic
``user:password`` pair), plus a logging filter. Whatever a server says is passed through
:meth:`Redactor.redact` before it is shown or stored.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

MASK = "«redacted»"
_LOWER_ESCAPES = re.compile(r"%[0-9A-F]{2}")
MIN_LENGTH = 4
CORE_LENGTH = 12  # the shortest base64 core of a secret that is masked (_base64_inside)
# Keys of a JSON secret (a stored session or credential pair) whose values are secrets too;
# the others (a DID, a handle) are public and stay readable in messages.
_SECRET_KEYS = frozenset(
    {"accessJwt", "refreshJwt", "access_token", "refresh_token", "client_secret", "password", "token", "secret"}
)


def _forms(secret: str) -> set[str]:
    """The secret and the encodings under which it may come back inside a server's answer."""
    raw = secret.encode()
    escaped = [json.dumps(secret, ensure_ascii=ascii_only)[1:-1] for ascii_only in (True, False)]
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret),
        # Percent escapes in lower case (%2f: as valid as %2F), and JSON with its slashes
        # escaped (PHP's json_encode does it by default): both echoed a token unmasked
        # (hostile-data trial of 2026-12-01).
        _lower_escapes(quote(secret, safe="")),
        _lower_escapes(quote_plus(secret)),
        *_every_byte_escaped(raw),
        *escaped,
        *(form.replace("/", "\\/") for form in escaped),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        secret.upper(),
        secret.lower(),
        raw.hex(),
        raw.hex().upper(),
    }
    return {f for f in forms if len(f) >= MIN_LENGTH} | _base64_inside(raw)


def _lower_escapes(text: str) -> str:
    """``%2F`` as ``%2f``: as valid, and what some servers echo."""
    return _LOWER_ESCAPES.sub(lambda m: m.group(0).lower(), text)


def _every_byte_escaped(raw: bytes) -> tuple[str, str]:
    """Percent-encoded by an encoder that escapes all but letters and digits (PHP's
    urlencode: ``~`` as %7E), in upper and lower case."""
    upper = "".join(chr(b) if chr(b).isascii() and chr(b).isalnum() else f"%{b:02X}" for b in raw)
    return upper, _lower_escapes(upper)


def _base64_inside(raw: bytes) -> set[str]:
    """The part of base64 that the secret alone decides when it sits anywhere inside a longer
    encoded text (``base64("x" + token)`` in an error body): for each of the three alignments,
    the whole 4-character groups made of secret bytes only. Short cores are left out (a few
    letters would mask innocent text)."""
    cores = set()
    for lead in range(3):
        whole = (lead + len(raw)) // 3  # groups that end inside the secret
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode(bytes(lead) + raw).decode()
            core = text[4 if lead else 0 : 4 * whole]
            if len(core) >= CORE_LENGTH:
                cores.add(core)
    return cores


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._sorted: list[str] = []
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        """Register a secret (and, for a JSON credential, the secret values inside it)."""
        if not secret or len(secret) < MIN_LENGTH:
            return
        forms = _forms(secret)
        for inner in _json_secrets(secret):
            forms |= _forms(inner)
        with self._lock:
            if forms - self._secrets:
                self._secrets |= forms
                self._sorted = sorted(self._secrets, key=len, reverse=True)

    def add_basic(self, user: str, password: str) -> None:
        """HTTP Basic auth sends base64("user:password"): a server may echo that form."""
        self.add(password)
        self.add(base64.b64encode(f"{user}:{password}".encode()).decode())

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = self._sorted
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text


def _json_secrets(secret: str) -> list[str]:
    if not secret.lstrip().startswith("{"):
        return []
    try:
        doc = json.loads(secret)
    except ValueError:
        return []
    if not isinstance(doc, dict):
        return []
    return [v for k, v in doc.items() if k in _SECRET_KEYS and isinstance(v, str)]


redactor = Redactor()


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redactor.redact(message)
        if record.exc_info:
            # Format the traceback now, redacted, so a token in a frame never reaches the handler.
            formatted = logging.Formatter().formatException(record.exc_info)
            clean += "\n" + redactor.redact(formatted)
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = clean, ()
        return True
