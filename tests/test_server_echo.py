"""A server that echoes its credentials back in error bodies never gets a secret shown or stored.

Each channel type and the webhook target are driven against a hostile server (an httpx
handler) that answers every request with 400 (GET) or 422 (anything else) and a body quoting
the request's Authorization / Api-Key headers, its body, and every secret it could know. The
secrets reach the process the way they do in use (token_command, a password grant, a session
JSON), never pre-registered by the test. Nothing may carry a secret, in any encoding: the
exception reason, the poll report, the outbox delivery, and every file under the data folder.
"""

from __future__ import annotations

import base64
import json
import secrets
import shlex
import smtplib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import httpx
import keyring
import msgspec
import pytest

from cminbox.channels.mail import MailChannel, MailOptions
from cminbox.core import config, http
from cminbox.core.channel import ChannelContext, ChannelError
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.health import HealthState
from cminbox.core.inbox import Inbox
from cminbox.core.outbox import Outbox
from cminbox.core.redact import MASK
from cminbox.core.secrets import SERVICE, Secrets
from cminbox.core.store import Store
from tests.conftest import cli_env, run_cli
from tests.factories import make_message
from tests.forge_fakes import Fake
from tests.mastodon_fixtures import ME, notification


def fresh(prefix: str) -> str:
    """A secret no earlier test registered (the redactor is process-wide), with characters
    whose URL and JSON encodings differ from the raw text."""
    return f"{prefix}+{secrets.token_hex(8)}/x=y"


def forms(secret: str) -> list[str]:
    return [secret, quote_plus(secret), base64.b64encode(secret.encode()).decode().rstrip("=")]


@dataclass
class Case:
    type: str
    stored: str  # what the keyring entry or the token_command gives
    conf: str  # channel config lines besides name, type, url and token_command
    url: str
    secrets: list[str]  # every secret the channel holds once it is running
    ok: dict[str, Any]  # path suffix -> JSON answered with 200 (identity calls, the password grant)
    extra: dict[str, str] = field(default_factory=dict)  # what a stored item of this type carries
    native_id: str = "1"


def token_command(value: str) -> str:
    """A TOML line giving the secret through token_command, as a user would."""
    return f"token_command = {json.dumps('printf %s ' + shlex.quote(value))}\n"


def mastodon() -> Case:
    token = fresh("masto")
    return Case("mastodon", token, "", "https://masto.example", [token], {"/accounts/verify_credentials": ME})


def github() -> Case:
    token = fresh("ghp")
    return Case(
        "github",
        token,
        'repos = ["acme/app"]\n',
        "https://api.github.example",
        [token],
        {"/user": {"login": "cm-bot", "id": 1}},
        {"repo": "acme/app", "number": "9"},
    )


def discourse() -> Case:
    key = fresh("key")
    return Case(
        "discourse",
        key,
        'account = "cm"\n',
        "https://forum.example",
        [key],
        {"/u/cm.json": {"user": {"id": 1}}},
        {"topic_id": "12", "post_number": "1", "post_id": "5"},
    )


def reddit() -> Case:
    secret, password, access = fresh("appsecret"), fresh("pw"), fresh("access")
    creds = json.dumps({"client_secret": secret, "password": password})
    return Case(
        "reddit",
        creds,
        'account = "cm_bot"\nclient_id = "app-id"\n',
        "https://oauth.reddit.example",
        [secret, password, access, base64.b64encode(f"app-id:{secret}".encode()).decode()],
        {"/access_token": {"access_token": access, "expires_in": 3600}, "/api/v1/me": {"name": "cm_bot"}},
        {"source": "inbox"},
        "t1_abc",
    )


def bluesky() -> Case:
    access, refresh = fresh("eyJaccess"), fresh("eyJrefresh")
    session = json.dumps({"accessJwt": access, "refreshJwt": refresh, "did": "did:plc:me", "handle": "me.test"})
    return Case(
        "bluesky",
        session,
        "",
        "https://pds.example",
        [access, refresh],
        {"/com.atproto.server.getSession": {"did": "did:plc:me", "handle": "me.test"}},
        {"cid": "c1", "root_uri": "at://did:plc:x/app.bsky.feed.post/1", "root_cid": "c1"},
        "at://did:plc:x/app.bsky.feed.post/1",
    )


def matrix() -> Case:
    token = fresh("syt")
    return Case(
        "matrix",
        token,
        "",
        "https://hs.example",
        [token],
        {"/account/whoami": {"user_id": "@cm:hs.example"}},
        {"room_id": "!room:hs.example", "event_id": "$ev1"},
        "$ev1",
    )


CASES = [mastodon, github, discourse, reddit, bluesky, matrix]


def echo(known: list[str], calls: list[httpx.Request], ok: dict[str, Any]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        for suffix, body in ok.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(200, json=body)
        said = " ".join(
            [
                request.headers.get("Authorization", ""),
                request.headers.get("Api-Key", ""),
                *known,
                request.content.decode(errors="replace")[:300],
            ]
        )
        status = 400 if request.method == "GET" else 422
        # Long enough that a reason cut at 120 or 200 characters would cut through a token.
        body = {"error": f"bad request from {said}", "errcode": "M_UNKNOWN", "message": f"denied: {said}"}
        return httpx.Response(status, json=body)

    return handler


def assert_clean(text: str, known: list[str], where: str) -> None:
    for secret in known:
        for form in forms(secret):
            assert form not in text, f"{where} carries {form!r}: {text[:300]}"
        assert secret[:12] not in text, f"{where} carries the start of a secret: {text[:300]}"


@pytest.mark.parametrize("source", ["token_command", "keyring"])
@pytest.mark.parametrize("build", CASES, ids=[c.__name__ for c in CASES])
async def test_echoed_credentials_never_reach_a_reason_or_a_file(
    tmp_path: Path, clock: FrozenClock, build: Callable[[], Case], source: str
) -> None:
    case = build()
    hook_secret = fresh("hook")
    known = [*case.secrets, hook_secret]
    if source == "keyring":
        keyring.get_keyring().set_password(SERVICE, "ch", case.stored)  # the in-memory test keyring
        given = case.conf
    else:
        given = token_command(case.stored) + case.conf
    cfg = config.parse(
        f'[user]\nname = "ana"\n[[channels]]\nname = "ch"\ntype = "{case.type}"\nurl = "{case.url}"\n{given}'
        '[[escalation.targets]]\nname = "hook"\nurl = "https://hooks.example/cm"\n'
        f'secret_command = "printf %s {hook_secret}"\n'
    )
    calls: list[httpx.Request] = []
    data = tmp_path / "data"
    store = Store(data, clock=clock)
    message = msgspec.structs.replace(
        make_message(1, channel="ch"), channel_type=case.type, native_id=case.native_id, extra=case.extra
    )
    store.upsert_messages([message])
    outbox = Outbox(data, store.lock, clock=clock)
    inbox = Inbox(cfg, store, outbox, clock)
    engine = Engine(cfg, store, outbox, Secrets(), clock, httpx.MockTransport(echo(known, calls, case.ok)))
    try:
        [report] = await engine.poll_once()
        assert report.health.state in (HealthState.DEGRADED, HealthState.AUTH_FAILED)
        assert MASK in report.health.reason, report.health.reason  # the echo reached the reason, redacted
        assert_clean(report.health.reason, known, "the poll's reason")

        inbox.reply(message.id, "on it")
        inbox.escalate([message.id], "hook", note="look")
        deliveries = await engine.dispatcher.deliver_due()
        assert len(deliveries) == 2 and not any(d.ok for d in deliveries)
        for delivery in deliveries:
            assert MASK in delivery.detail, delivery.detail
            assert_clean(delivery.detail, known, "a delivery's reason")
        for item in outbox.items():
            assert_clean(item.last_error, known, "an outbox error")
    finally:
        await engine.aclose()
    assert calls  # the hostile server was really asked
    for path in [p for p in data.rglob("*") if p.is_file()]:
        assert_clean(path.read_text(errors="replace"), known, str(path.relative_to(data)))


def test_a_cut_server_message_keeps_no_part_of_a_token(clock: FrozenClock) -> None:
    token = fresh("cut")
    long = "x" * 190 + token + "y" * 50
    response = httpx.Response(422, json={"error": long}, request=httpx.Request("POST", "https://s.example/"))
    Secrets({"ch": token})
    with pytest.raises(ChannelError) as caught:
        http.check(response, clock, "post reply")
    assert token[:6] not in caught.value.reason and MASK[:3] in caught.value.reason


async def test_mail_server_errors_quoting_the_password_are_redacted(clock: FrozenClock) -> None:
    password = fresh("mailpw")

    async def token() -> str:
        return password

    channel = MailChannel(
        ChannelContext(
            name="mail",
            url="imaps://mail.example",
            account="cm@example.org",
            options=MailOptions(),
            token=token,
            clock=clock,
        )
    )
    await channel._password()  # how the channel obtains it before every session
    plain = base64.b64encode(f"\0cm@example.org\0{password}".encode()).decode()

    def smtp_refuses() -> None:
        raise smtplib.SMTPResponseException(554, f"rejected {'z' * 70}{password} {plain}".encode())

    def imap_refuses() -> None:
        import imaplib

        raise imaplib.IMAP4.error(f"LOGIN failed for {password} ({plain})")

    for fail in (smtp_refuses, imap_refuses):
        with pytest.raises(ChannelError) as caught:
            await channel._in_thread(fail, "send")
        assert_clean(caught.value.reason, [password, plain], "a mail error")


class EchoingMastodon(Fake):
    """The two reported cases: 400 on notifications and 422 on a reply, each quoting the token."""

    def __init__(self) -> None:
        super().__init__()
        self.echo = False

        @self.route("GET", "/api/v1/accounts/verify_credentials")
        def me(request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, json=ME)

        @self.route("GET", "/api/v1/notifications")
        def notifications(request: httpx.Request) -> httpx.Response:
            if self.echo:
                said = request.headers["Authorization"]
                return httpx.Response(400, json={"error": f"bad request from {said}"})
            return httpx.Response(200, json=[notification(1)])

        @self.route("POST", "/api/v1/statuses")
        def post(request: httpx.Request) -> httpx.Response:
            token = request.headers["Authorization"].removeprefix("Bearer ")
            return httpx.Response(422, json={"error": f"Validation failed for token {token}"})


@pytest.mark.slow
def test_mastodon_echo_reaches_no_command_output_and_no_file(tmp_path: Path) -> None:
    token = fresh("tok")
    fake = EchoingMastodon()
    with fake.serve() as base:
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[[channels]]\nname = "m"\ntype = "mastodon"\nurl = "{base}"\n{token_command(token)}')
        env = cli_env(CMINBOX_CONFIG=str(cfg), CMINBOX_DATA_DIR=str(tmp_path / "data"))
        first = run_cli("poll", "--once", env=env)
        assert "1 new" in first.stdout, first.stdout + first.stderr
        [row] = json.loads(run_cli("list", "--json", env=env).stdout)
        replied = run_cli("reply", str(row["id"]), "--text", "on it", env=env)
        fake.echo = True
        polled = run_cli("poll", "--once", env=env)
        channels = run_cli("channels", "--json", env=env)
        outbox = run_cli("outbox", "list", "--all", env=env)
    shown = {"reply": replied, "poll --once": polled, "channels --json": channels, "outbox list": outbox}
    assert "Validation failed for token" in replied.stdout + replied.stderr + outbox.stdout
    assert "bad request from" in polled.stdout and "bad request from" in channels.stdout
    for what, done in shown.items():
        assert_clean(done.stdout + done.stderr, [token], what)
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert {"health.json", "outbox.json"} <= {p.name for p in files}
    for path in files:
        assert_clean(path.read_text(errors="replace"), [token], path.name)
