"""A server that echoes the channel's token in a successful answer does not get it stored,
printed or kept as a cursor (hostile-server review of 2026-12-02: the token came back in a
post's text, the author's name and a link, and stood in `cminbox show` and the store's JSON;
a Matrix next_batch holding it was kept as the channel's cursor)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import respx

from cminbox.core import config
from cminbox.core.clock import FrozenClock
from cminbox.core.engine import Engine
from cminbox.core.health import HealthState
from cminbox.core.models import Author
from cminbox.core.outbox import Outbox
from cminbox.core.redact import MASK, redactor
from cminbox.core.secretless import holds_secret, secretless
from cminbox.core.secrets import Secrets
from cminbox.core.store import Store
from tests.factories import make_message
from tests.mastodon_fixtures import ME, notification
from tests.test_mastodon_unit import BASE

TOKEN = "tok-echoed-7f3a9c21"


def test_a_message_holding_a_secret_in_any_string_has_it_masked_and_nothing_else_changes() -> None:
    redactor.add(TOKEN)
    clean = make_message(1)
    assert secretless(clean) is clean  # no secret: the very same message
    base = make_message(1, text=f"you sent Bearer {TOKEN}")
    echoed = msgspec.structs.replace(
        base,
        url=f"https://x.example/?t={TOKEN}",
        author=Author(id="a", handle="h", display_name=f"Bearer {TOKEN}"),
        extra={"acct": TOKEN.upper(), "plain": "kept"},
    )
    masked = secretless(echoed)
    assert TOKEN not in repr(masked) and TOKEN.upper() not in repr(masked)
    assert masked.text == f"you sent Bearer {MASK}" and masked.author.display_name == f"Bearer {MASK}"
    assert masked.extra["plain"] == "kept" and masked.id == echoed.id


def test_a_cursor_holding_a_secret_is_found() -> None:
    redactor.add(TOKEN)
    assert holds_secret({"since": f"s1_Bearer {TOKEN}"})
    assert not holds_secret({"since": "s1_123"}) and not holds_secret(None)


async def test_a_poll_stores_the_echoed_token_nowhere(tmp_path: Path, clock: FrozenClock) -> None:
    note = notification(1, content=f"<p>you sent Bearer {TOKEN}</p>")
    note["account"]["display_name"] = f"Bearer {TOKEN}"
    note["status"]["url"] = f"https://masto.example/@x/1?{TOKEN}"
    cfg = config.parse(f'[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "{BASE}"\n')
    store = Store(tmp_path / "data", clock=clock)
    with respx.mock(assert_all_called=False) as api:
        api.get(f"{BASE}/api/v1/accounts/verify_credentials").respond(json=ME)
        api.get(f"{BASE}/api/v1/notifications").respond(json=[note])
        engine = Engine(
            cfg, store, Outbox(tmp_path / "data", store.lock, clock=clock), Secrets({"masto": TOKEN}), clock
        )
        [report] = await engine.poll_once()
        await engine.aclose()
    assert report.new_ids == ["masto:1001"]
    stored = store.get_message("masto:1001")
    assert stored is not None and MASK in stored.text and TOKEN not in stored.url
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path


async def test_a_cursor_echoing_the_token_is_not_kept(tmp_path: Path, clock: FrozenClock) -> None:
    hs = "https://hs.example"
    cfg = config.parse(f'[[channels]]\nname = "mx"\ntype = "matrix"\nurl = "{hs}"\n')
    store = Store(tmp_path / "data", clock=clock)
    with respx.mock(assert_all_called=False) as api:
        api.get(url__regex=r".*/account/whoami").respond(json={"user_id": "@cm:hs.example"})
        api.get(url__regex=r".*/sync").respond(json={"next_batch": f"s1_Bearer {TOKEN}", "rooms": {}})
        engine = Engine(cfg, store, Outbox(tmp_path / "data", store.lock, clock=clock), Secrets({"mx": TOKEN}), clock)
        [report] = await engine.poll_once()
        await engine.aclose()
    assert report.health.state == HealthState.DEGRADED
    assert "paging cursor holds a secret" in report.health.reason and TOKEN not in report.health.reason
    assert store.get_cursor("mx") is None
    for path in (tmp_path / "data").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
