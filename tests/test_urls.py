"""Which URLs name this machine: plain http (and a password without TLS) is allowed only there.

Regression (review of 2026-12-02): a prefix test took ``http://127.evil.example`` for this
machine, so ``config check`` accepted it and the poll sent the token there in plain text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.core.urls import is_loopback
from tests.conftest import run_cli


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost:8080/x",
        "http://LOCALHOST/",
        "http://127.0.0.1:9/",
        "http://127.2.3.4/",
        "http://[::1]:8448/",
        "http://[::ffff:127.0.0.1]/",
        "imap://127.0.0.1:1143",
        "smtp://localhost:25",
    ],
)
def test_this_machine(url: str) -> None:
    assert is_loopback(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.evil.example",
        "http://127.0.0.1.evil.example/",
        "http://127.1/",  # a shorthand some resolvers take: not an address literal
        "http://localhost.evil.example/",
        "http://evil.localhost.example/",
        "http://[::ffff:8.8.8.8]/",
        "http://10.0.0.1/",
        "http://[fe80::1]/",
        "http://[::1/",
        "imap://127.evil.example",
        "",
        "not a url",
    ],
)
def test_not_this_machine(url: str) -> None:
    assert not is_loopback(url)


def test_config_check_refuses_a_token_over_plain_http_to_a_host_named_127(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[[channels]]\nname = "m"\ntype = "mastodon"\nurl = "http://127.evil.example"\n'
        'token_command = "echo tok-secret-123456"\n'
    )
    result = run_cli("--config", str(config), "config", "check")
    assert result.returncode != 0
    assert "c.toml" in result.stderr and "url" in result.stderr
    assert "tok-secret" not in result.stdout + result.stderr
