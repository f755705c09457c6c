"""Extras packed in memory (core/packed_extras.py): equal to the dict they came from, read the
same, and written back whole by every path that writes a stored message (the store's parts,
the archive, export, a move to PostgreSQL's JSON). A writer that does not know them fails
loudly instead of writing them out empty."""

from __future__ import annotations

import ast
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cminbox
from cminbox.core import portable, triage
from cminbox.core.models import Message, Status
from cminbox.core.packed_extras import SEP, PackedExtras, Packer, enc_hook
from cminbox.core.store import Store
from tests.factories import make_message

_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_extras = st.dictionaries(_text, _text, max_size=6)


@settings(max_examples=300, deadline=None)
@given(_extras, st.sampled_from([*list("kxa"), "zz"]))
def test_a_packed_copy_reads_and_encodes_like_the_dict(extra: dict[str, str], other: str) -> None:
    packed = Packer().pack(dict(extra))
    if extra and not any(SEP in v for v in extra.values()):
        assert type(packed) is PackedExtras
    assert packed == extra and extra == packed
    assert dict(packed) == extra and list(packed) == list(extra) and len(packed) == len(extra)
    assert list(packed.items()) == list(extra.items()) and list(packed.values()) == list(extra.values())
    for key in [*extra, other]:
        assert (key in packed) == (key in extra)
        assert packed.get(key) == extra.get(key)
    assert {**packed} == extra
    with pytest.raises(KeyError):
        packed[other + "-not-there" if other in extra else other]
    msg = msgspec.structs.replace(make_message(1), extra=packed)
    enc = msgspec.json.Encoder(enc_hook=enc_hook)
    assert enc.encode(msg) == enc.encode(msgspec.structs.replace(msg, extra=extra))
    assert msgspec.json.decode(enc.encode(msg), type=Message) == msgspec.structs.replace(msg, extra=extra)


@settings(max_examples=200, deadline=None)
@given(_extras, st.randoms(use_true_random=False))
def test_packed_copies_compare_as_their_dicts_whatever_the_key_order(extra: dict[str, str], rnd: Random) -> None:
    pairs = list(extra.items())
    rnd.shuffle(pairs)
    packer = Packer()
    a, b = packer.pack(dict(extra)), packer.pack(dict(pairs))
    assert a == b and b == a and a == dict(pairs)
    changed = {**extra, "k": extra.get("k", "") + "x"}
    assert packer.pack(changed) != a and a != changed


def test_an_encoder_without_the_hook_fails_loudly_rather_than_writing_them_empty() -> None:
    msg = msgspec.structs.replace(make_message(1), extra=Packer().pack({"subject": "hi", "uid": "7"}))
    with pytest.raises(TypeError, match="PackedExtras"):
        msgspec.json.encode(msg)


# Encoding raw documents or small marks, never a message Struct: the file and why.
_RAW_ONLY = {
    "repair.py": "salvaged documents, decoded untyped",
    "migrations.py": "old layouts' documents, decoded untyped",
    "store_portable.py": "the import's position mark",
}


def test_every_json_encoder_in_cminbox_knows_packed_extras() -> None:
    """Each ``msgspec.json.Encoder(...)`` in cminbox passes ``enc_hook``, and so does each
    ``msgspec.json.encode(...)`` outside the files that only encode raw documents."""
    missing = []
    for path in Path(cminbox.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if ast.unparse(node.func.value) not in {"msgspec.json", "msgspec.msgpack"}:
                continue
            if node.func.attr == "encode" and path.name in _RAW_ONLY:
                continue
            if node.func.attr in {"Encoder", "encode"} and not any(k.arg == "enc_hook" for k in node.keywords):
                missing.append(f"{path.relative_to(path.parents[2])}:{node.lineno}")
    assert missing == []


def _mail(n: int, at: datetime) -> Message:
    m = make_message(n, channel="mail", at=at)
    extra = {
        "subject": f"Subject {n} ✉",
        "message_id": f"{n}.x@example.com",
        "references": "",
        "reply_to": m.author.handle,
        "uid": str(n),
    }
    return msgspec.structs.replace(m, channel_type="email", extra=extra)


def _on_disk(data_dir: Path) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for part in (data_dir / "messages").glob("*.json"):
        for doc in json.loads(part.read_text())["messages"].values():
            found[doc["id"]] = doc["extra"]
    return found


def test_a_store_holds_them_packed_and_every_write_puts_them_back_whole(tmp_path: Path) -> None:
    then = datetime(2026, 6, 1, tzinfo=UTC)
    mails = [_mail(n, then - timedelta(hours=n)) for n in range(1, 9)]
    want = {m.id: dict(m.extra) for m in mails}
    Store(tmp_path, clock=lambda: then).upsert_messages(mails[:4])
    s = Store(tmp_path, clock=lambda: then)
    assert all(type(s.get_message(mid).extra) is PackedExtras for mid in list(want)[:4])  # type: ignore[union-attr]
    s.upsert_messages(mails[4:])  # the same part, rewritten with the packed ones in it
    s.act([mails[0].id, mails[1].id], triage.SetStatus(Status.DONE), actor="a")
    assert _on_disk(tmp_path) == want
    fresh = Store(tmp_path, clock=lambda: then)
    assert {mid: dict(fresh.get_message(mid).extra) for mid in want} == want  # type: ignore[union-attr]

    out = io.BytesIO()  # export --all: every item as a line of JSON
    portable.write_jsonl(portable.everything(fresh), out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {ln["message"]["id"]: ln["message"]["extra"] for ln in lines if "message" in ln} == want

    later = then + timedelta(days=200)
    aged = Store(tmp_path, clock=lambda: later)
    assert sorted(aged.archive(timedelta(days=90))) == sorted([mails[0].id, mails[1].id])
    archived = {a.id: dict(a.message.extra) for a in Store(tmp_path, clock=lambda: later).archived()}
    assert archived == {mid: want[mid] for mid in (mails[0].id, mails[1].id)}
    assert _on_disk(tmp_path) == {mid: e for mid, e in want.items() if mid not in archived}
