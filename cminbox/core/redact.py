"""Keeping secrets out of logs: a registry of known secret values and a logging filter."""

from __future__ import annotations

import logging
import threading


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, "«redacted»")
        return text


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
