"""A server's ids, links, handles and extras reach no terminal as escape sequences.

Regression (review of 2026-12-01): a Mastodon status whose id carried OSC 52 (a clipboard
write) and whose url carried an OSC 8 link and ESC[2J was stored as it came; `cminbox list`,
`cminbox show` and the preview wrote those sequences to the terminal, and `--json` wrote C1
controls raw. Messages are made inert on their way into a store (text.inert_message); the
commands clean what they print too, for stores written before.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cminbox.cli import main
from cminbox.core import store_upsert
from cminbox.core.models import Author, Message
from cminbox.core.store import Store
from cminbox.core.text import inert_message
from tests.factories import make_message

OSC52 = "\x1b]52;c;SGVsbG8=\x07"
HOSTILE_URL = "https://127.0.0.1/@x/77\x1b]8;;https://evil.example\x1b\\CLICK\x1b]8;;\x1b\\" + OSC52 + "\x1b[2J\x1b[H"
# Anything a terminal acts on: ESC, BEL, C1 controls (0x9b is CSI), DEL.
ACTIVE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def hostile() -> Message:
    base = make_message(77)
    return msgspec.structs.replace(
        base,
        id="masto:77" + OSC52 + "\x9b2J",
        native_id="77" + OSC52,
        url=HOSTILE_URL,
        thread_id="masto:77\x1b[2J",
        author=Author(id="9\x07", handle="@evil\x1b[31m@x.example", display_name="E\x9b2Jvil", url=HOSTILE_URL),
        extra={"acct": "evil\x1b]52;c;QUJD\x07", "k\x1b[1m": "v"},
    )


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    config = tmp_path / "config.toml"
    config.write_text('[user]\nname = "ana"\n')
    code = main(["--config", str(config), "--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out + err


def _stored_id(tmp_path: Path) -> str:
    (message,) = [m for m, _ in Store(tmp_path / "data").query()]
    return message.id


@pytest.mark.parametrize("dirty_store", [False, True], ids=["stored-now", "stored-before-the-check"])
def test_list_and_show_print_no_escape_sequences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, dirty_store: bool
) -> None:
    if dirty_store:  # a store written before messages were made inert on their way in
        monkeypatch.setattr(store_upsert, "bound_message", lambda m: m)
    Store(tmp_path / "data").upsert_messages([hostile()])
    monkeypatch.undo()
    mid = _stored_id(tmp_path)
    assert (OSC52 in mid) is dirty_store
    for args in (["list"], ["show", mid], ["list", "--json"], ["show", mid, "--json"]):
        out = cli(tmp_path, capsys, *args)
        assert not ACTIVE.search(out), (args, out)
        assert "CLICK" in out or "--json" not in args or args[0] == "list"
    shown = json.loads(cli(tmp_path, capsys, "show", mid, "--json"))
    assert shown["id"] == mid  # the JSON still says what is stored (escaped, not dropped)


def test_a_stored_message_is_inert() -> None:
    stored = inert_message(hostile())
    for name in ("id", "native_id", "url", "thread_id"):
        assert getattr(stored, name).isprintable(), name
    assert stored.id == "masto:77"
    assert stored.url == "https://127.0.0.1/@x/77CLICK"
    assert all(getattr(stored.author, f).isprintable() for f in ("id", "handle", "display_name", "url"))
    assert all(k.isprintable() and v.isprintable() for k, v in stored.extra.items())
    plain = make_message(5)
    assert inert_message(plain) is plain  # nothing to clean: the same object, nothing copied


@given(
    ident=st.text(),
    url=st.text(),
    handle=st.text(),
    text=st.text(),
    extra=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
)
def test_inert_message_leaves_only_printable_lines(
    ident: str, url: str, handle: str, text: str, extra: dict[str, str]
) -> None:
    base = make_message(1)
    message = msgspec.structs.replace(
        base, id=ident, url=url, text=text, extra=extra, author=msgspec.structs.replace(base.author, handle=handle)
    )
    got = inert_message(message)
    for line in (got.id, got.url, got.author.handle, *got.extra, *got.extra.values()):
        assert not ACTIVE.search(line) and "\n" not in line
    assert not ACTIVE.search(got.text.replace("\n", " ").replace("\t", " "))
    assert inert_message(got) is got  # once is enough
    if ident.isprintable():
        assert got.id == ident
