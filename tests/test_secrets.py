from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail, null

from cminbox.core import secrets
from cminbox.core.redact import RedactingFilter, redactor
from cminbox.core.secrets import SecretError, Secrets
from tests.memkeyring import MemoryKeyring


def test_memory_keyring_roundtrip() -> None:
    secrets.keyring_set("masto", "tok-roundtrip")
    assert Secrets().get("masto") == "tok-roundtrip"
    assert isinstance(keyring.get_keyring(), MemoryKeyring)


@pytest.mark.parametrize(
    ("backend", "words"), [(fail.Keyring(), "no keyring backend"), (null.Keyring(), "silently discards")]
)
def test_unusable_backends_are_explained(backend: keyring.backend.KeyringBackend, words: str) -> None:
    keyring.set_keyring(backend)
    status = secrets.keyring_status()
    assert not status.usable and words in status.problem and "token_command" in status.problem
    with pytest.raises(SecretError, match="token_command"):
        secrets.keyring_set("masto", "x")


def test_plaintext_backends_are_refused() -> None:
    class PlaintextKeyring(MemoryKeyring):
        pass

    PlaintextKeyring.__module__ = "keyrings.alt.file"
    keyring.set_keyring(PlaintextKeyring())
    status = secrets.keyring_status()
    assert not status.usable and "plain" in status.problem


def test_a_hanging_keyring_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    class Hanging(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            time.sleep(5)
            return None

    keyring.set_keyring(Hanging())
    monkeypatch.setattr(secrets, "KEYRING_TIMEOUT", 0.2)
    started = time.monotonic()
    with pytest.raises(SecretError, match="did not answer"):
        Secrets().get("masto")
    assert time.monotonic() - started < 2


def test_token_command(tmp_path: Path) -> None:
    assert Secrets().get("x", "printf 'tok-from-command\\nsecond line'") == "tok-from-command"
    with pytest.raises(SecretError, match="not found"):
        Secrets().get("x", "/nonexistent/pass show x")
    with pytest.raises(SecretError, match="printed nothing"):
        Secrets().get("x", "true")


def test_log_records_are_redacted() -> None:
    import logging

    redactor.add("tok-very-secret")
    record = logging.LogRecord("cminbox", logging.ERROR, __file__, 1, "sent with %s", ("tok-very-secret",), None)
    try:
        raise RuntimeError("boom tok-very-secret")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert "tok-very-secret" not in record.getMessage()
    assert "«redacted»" in record.getMessage() and "boom" in record.getMessage()


@pytest.mark.parametrize(
    "echo",
    [
        lambda t: t.encode().hex(),
        lambda t: t.encode().hex().upper(),
        lambda t: t.upper(),
        lambda t: base64.b64encode(("x" + t).encode()).decode(),
        lambda t: base64.b64encode(("xy" + t + "zz").encode()).decode(),
        lambda t: base64.urlsafe_b64encode((t + "?").encode()).decode(),
    ],
    ids=["hex", "HEX", "upper", "b64-after-1", "b64-inside", "b64url-before"],
)
def test_a_token_echoed_hex_upper_or_inside_base64_is_redacted(echo: Callable[[str], str]) -> None:
    """Regression (review of 2026-12-01): these echoes of a token in a server's error reached
    the health reason as they came."""
    from cminbox.core.redact import Redactor

    token = "tok-SECRET-abc123XYZ-9f8e"
    redact = Redactor()
    redact.add(token)
    said = redact.redact(f"422: {echo(token)} is not valid")
    assert "«redacted»" in said and said.startswith("422: ")
    assert redact.redact("ordinary words, Tokens and 0a1b hex") == "ordinary words, Tokens and 0a1b hex"


@pytest.mark.parametrize(
    "echo",
    [
        lambda t: "Tk%2b%2f%3d9x~z.Q_1",  # percent escapes in lower case
        lambda t: "Tk+\\/=9x~z.Q_1",  # JSON with its slashes escaped (PHP's json_encode)
        lambda t: "Tk%2B%2F%3D9x%7Ez%2EQ%5F1",  # every byte but letters and digits escaped
        lambda t: "Tk%2b%2f%3d9x%7ez%2eq%5f1".replace("q", "Q"),
    ],
    ids=["pct-lower", "json-slash", "pct-all", "pct-all-lower"],
)
def test_a_token_echoed_in_other_encodings_is_redacted(echo: Callable[[str], str]) -> None:
    """Regression (hostile-data trial of 2026-12-01): a 422 body echoing the token so reached
    the output and outbox.json."""
    from cminbox.core.redact import Redactor

    token = "Tk+/=9x~z.Q_1"
    redact = Redactor()
    redact.add(token)
    said = redact.redact(f"422: {echo(token)} is not valid")
    assert said == "422: «redacted» is not valid"
