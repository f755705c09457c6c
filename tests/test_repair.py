"""`doctor --repair` keeps every whole document of a damaged file, and what it cannot keep
comes back from the channel (the cursor is rewound; triage state reattaches by id)."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import msgspec
import pytest

from cminbox.cli import main
from cminbox.core import config
from cminbox.core.channel import Capabilities, ChannelContext, Identity, PollResult, ReplyReceipt
from cminbox.core.clock import FrozenClock
from cminbox.core.models import Message, Note, Status
from cminbox.core.poller import Poller
from cminbox.core.repair import repair_file, repair_store
from cminbox.core.store import Store
from cminbox.core.triage import AddTags, SetStatus
from tests.factories import make_message

COUNT = 40
CHANNELS = '[[channels]]\nname = "masto"\ntype = "mastodon"\nurl = "https://m.example"\n'


class FakeChannel:
    """Serves messages masto:1..40; the cursor is the highest number handed out."""

    type_name: ClassVar[str] = "fake"
    capabilities: ClassVar[Capabilities] = Capabilities()
    Options: ClassVar[Any] = None

    def __init__(self, ctx: ChannelContext | None = None) -> None:
        self.polled_from: list[Any] = []

    async def whoami(self) -> Identity:
        return Identity(id="1", handle="@me")

    async def poll(self, cursor: dict[str, Any] | None) -> PollResult:
        self.polled_from.append(cursor)
        after = (cursor or {}).get("after", 0)
        got = [make_message(n) for n in range(1, COUNT + 1) if n > after]
        return PollResult(messages=got, cursor={"after": COUNT})

    async def thread(self, message: Message) -> list[Message]:
        return [message]

    async def reply(self, message: Message, text: str, idempotency_key: str) -> ReplyReceipt:
        raise NotImplementedError

    async def moderate(self, message: Message, action: str, reason: str) -> None:
        raise NotImplementedError

    async def aclose(self) -> None:
        pass


def poller(store: Store, clock: FrozenClock, channel: FakeChannel) -> Poller:
    [cfg] = config.parse(CHANNELS).channels
    return Poller(store, {"masto": channel}, {"masto": cfg}, clock)  # type: ignore[dict-item]


def filled(data: Path) -> tuple[Path, bytes]:
    Store(data).upsert_messages([make_message(n) for n in range(1, COUNT + 1)])
    [part] = (data / "messages").glob("*.json")
    return part, part.read_bytes()


def document_ends(raw: bytes) -> dict[str, int]:
    """Where each document of the original file ends (its TinyDB id -> byte offset)."""
    docs = msgspec.json.decode(raw)["messages"]
    ends = {}
    for doc_id, doc in docs.items():
        piece = f'"{doc_id}":'.encode() + msgspec.json.encode(doc)
        start = raw.index(piece)
        ends[doc["id"]] = start + len(piece)
    return ends


def test_truncation_keeps_every_document_complete_before_the_cut(tmp_path: Path) -> None:
    part, raw = filled(tmp_path / "model")
    ends = document_ends(raw)
    cuts = random.Random(20261130).sample(range(1, len(raw) - 2), 10)
    for n, cut in enumerate(cuts):
        data = tmp_path / f"cut{n}"
        target = data / "messages" / part.name
        Store(data)
        target.write_bytes(raw[:cut])
        assert target in Store(data).file_problems
        result = repair_file(data, target, now=n)
        expected = {mid for mid, end in ends.items() if end <= cut}
        assert set(Store(data).message_ids()) == expected, f"cut at {cut}"
        assert result.kept == len(expected) and not result.whole and result.lost_data
        assert result.lost_channels is None  # what followed the cut is unknown: every channel
        assert result.backup.read_bytes() == raw[:cut]


@pytest.mark.parametrize(
    ("offset", "garble"),
    [(len(b'"text"'), b"#"), (len(b'"text":"mess'), b"\xff"), (-1, b"]")],
    ids=["syntax", "not-utf8", "brace"],
)
def test_a_garbled_byte_keeps_the_documents_around_it(tmp_path: Path, offset: int, garble: bytes) -> None:
    data = tmp_path / "d"
    part, raw = filled(data)
    ends = document_ends(raw)
    victim = "masto:20"
    at = raw.index(b'"text":"message number 20"', 0, ends[victim]) + offset
    part.write_bytes(raw[:at] + garble + raw[at + 1 :])
    result = repair_file(data, part)
    assert set(Store(data).message_ids()) == set(ends) - {victim}
    assert (result.kept, result.dropped, result.whole) == (COUNT - 1, 1, True)
    assert result.lost_channels == frozenset({"masto"})


def test_a_damaged_last_document_is_not_taken_for_a_cut(tmp_path: Path) -> None:
    data = tmp_path / "d"
    part, raw = filled(data)
    at = raw.index(b'"text":"message number 40"') + len(b'"text"')
    part.write_bytes(raw[:at] + b"#" + raw[at + 1 :])
    result = repair_file(data, part)
    assert (result.kept, result.dropped, result.whole) == (COUNT - 1, 1, True)
    assert result.lost_channels == frozenset({"masto"})  # only its channel needs a rewind


async def test_lost_messages_come_back_after_the_cursor_rewind_with_their_triage(
    tmp_path: Path, clock: FrozenClock
) -> None:
    store = Store(tmp_path, clock=clock)
    channel = FakeChannel()
    await poller(store, clock, channel).poll_channel("masto")
    assert len(store.message_ids()) == COUNT and store.get_cursor("masto") == {"after": COUNT}
    store.act(["masto:3"], AddTags(tags=("billing",)), actor="ana")
    store.act(["masto:39"], SetStatus(status=Status.DONE), actor="ana")
    [part] = (tmp_path / "messages").glob("*.json")
    raw = part.read_bytes()
    part.write_bytes(raw[: len(raw) // 2])

    reopened = Store(tmp_path, clock=clock)
    repaired, rewound = repair_store(reopened, list(reopened.file_problems))
    assert repaired[0].lost_data and rewound == ["masto"]
    assert 0 < len(reopened.message_ids()) < COUNT
    assert reopened.get_cursor("masto") is None

    await poller(reopened, clock, channel).poll_channel("masto")
    assert channel.polled_from[-1] is None  # polled as on first use
    assert sorted(reopened.message_ids()) == sorted(f"masto:{n}" for n in range(1, COUNT + 1))
    assert reopened.triage("masto:3").tags == ("billing",)
    assert reopened.triage("masto:39").status == Status.DONE


async def test_archived_items_stay_archived_when_a_rewound_channel_is_read_again(
    tmp_path: Path, clock: FrozenClock
) -> None:
    store = Store(tmp_path, clock=clock)
    channel = FakeChannel()
    await poller(store, clock, channel).poll_channel("masto")
    store.act(["masto:5"], SetStatus(status=Status.DONE), actor="ana")
    clock.advance(hours=1)
    assert store.archive(timedelta(0)) == ["masto:5"]
    assert store.rewind_cursors(None) == ["masto"]
    report = await poller(store, clock, channel).poll_channel("masto")
    assert report.new_ids == [] and not store.is_live("masto:5")
    assert [a.id for a in store.archived()] == ["masto:5"]


def test_doctor_repair_reports_loss_and_never_says_all_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    part, raw = filled(data)
    Store(data).set_cursor("masto", {"after": COUNT})
    part.write_bytes(raw[: len(raw) // 2])
    cfg = tmp_path / "config.toml"
    cfg.write_text("")
    base = ["--config", str(cfg), "--data-dir", str(data)]
    code = main([*base, "doctor", "--repair"])
    out = capsys.readouterr().out
    assert code == 1 and "all good" not in out
    assert "FAIL  store repaired" in out and "cut off" in out and "poll cursor rewound for masto" in out
    assert main([*base, "list", "--json"]) == 0
    listed = msgspec.json.decode(capsys.readouterr().out)
    assert 0 < len(listed) < COUNT
    assert main([*base, "doctor"]) == 0  # repaired: the store loads again


def test_a_damaged_triage_record_is_named_by_its_item(tmp_path: Path) -> None:
    """Triage state cannot be fetched back from a channel: the report names the items whose
    records were lost (it said only "lost 1 damaged or unfit document(s)": fault trial of
    2026-12-01)."""
    from cminbox.core.triage import AddNote, AddTags

    data = tmp_path / "d"
    store = Store(data)
    store.upsert_messages([make_message(n) for n in range(1, 4)])
    store.act(["masto:1", "masto:2", "masto:3"], AddTags(("urgent",)), actor="ana")
    note = msgspec.convert({"id": "n1", "author": "ana", "at": "2026-11-01T00:00:00+00:00", "text": "x"}, Note)
    store.act(["masto:2"], AddNote(note), actor="ana")  # a nested object with an "id" of its own
    store.close()
    [shard] = [p for p in (data / "triage").glob("*.json") if b"masto:2" in p.read_bytes()]
    raw = shard.read_bytes()
    at = raw.index(b'"urgent"', raw.index(b'"id":"masto:2"'))
    shard.write_bytes(raw[:at] + b"#" + raw[at + 1 :])
    result = repair_file(data, shard)
    assert result.dropped == 1 and result.lost_ids == ("masto:2",)
    assert "lost 1 damaged or unfit document(s) (of masto:2)" in result.describe()
