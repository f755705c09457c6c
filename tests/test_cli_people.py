"""`cminbox people list|show|tag|untag|note|link|unlink` and the people fields of `list --query`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
import pytest

from cminbox.cli import main
from cminbox.core.models import Author
from cminbox.core.outbox_types import OutboxKind
from cminbox.core.store import Store
from tests.factories import make_message

CONFIG = """
[team]
me = "ana"

[[channels]]
name = "masto"
type = "mastodon"
url = "https://example.social"
staff = ["@user3@example.social"]
"""
PRIYA = "masto:user1@example.social"


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """masto:0..27 by user0..user6 (user3 is staff); user1 also writes on gh as "user1"."""
    (tmp_path / "config.toml").write_text(CONFIG)
    store = Store(tmp_path / "data")
    gh = [
        msgspec.structs.replace(
            make_message(n, channel="gh"), author=Author(id="u", handle="user1", display_name="Priya R")
        )
        for n in (100, 101)
    ]
    scored = [msgspec.structs.replace(make_message(n), sentiment=-0.5 if n < 12 else 0.5) for n in range(28)]
    store.upsert_messages(scored + gh)
    return tmp_path


def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--config", str(tmp_path / "config.toml"), "--data-dir", str(tmp_path / "data"), *args])
    out, err = capsys.readouterr()
    return code, out + err


def as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code, out = cli(tmp_path, capsys, *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_tag_and_untag_apply_to_several_people_at_once(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tagged = as_json(data, capsys, "people", "tag", f"{PRIYA},masto:user2@example.social,user4@example.social", "VIP")
    assert sorted(p["identities"][0]["identity"] for p in tagged) == [
        PRIYA,
        "masto:user2@example.social",
        "masto:user4@example.social",
    ]
    assert all(p["stored"] and p["id"].startswith("p-") and p["tags"] == ["vip"] and p["rev"] == 1 for p in tagged)
    code, out = cli(data, capsys, "people", "tag", PRIYA, "vip")  # already so: nothing to write
    assert code == 0 and out.strip() == "nothing changed"
    [untagged] = as_json(data, capsys, "people", "untag", "masto:user4@example.social", "vip")
    assert untagged["tags"] == [] and untagged["rev"] == 2
    listed = as_json(data, capsys, "people", "list", "--tag", "vip")
    assert sorted(p["identities"][0]["identity"] for p in listed) == [PRIYA, "masto:user2@example.social"]
    events = as_json(data, capsys, "events")
    assert [(e["kind"], e["label"]) for e in events[-4:]] == [("person", "tag vip")] * 3 + [("person", "untag vip")]


def test_staff_accounts_are_staff_without_a_record(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [staff] = as_json(data, capsys, "people", "list", "--tag", "staff")
    assert (staff["id"], staff["stored"], staff["tags"], staff["marker"]) == (
        "masto:user3@example.social",
        False,
        ["staff"],
        "◆",
    )
    code, out = cli(data, capsys, "people", "untag", "masto:user3@example.social", "staff")
    assert code == 0 and "stays staff: an identity is a staff account" in out
    code, out = cli(data, capsys, "list", "--query", "from:staff")
    assert code == 0 and {line.split()[1] for line in out.splitlines()} == {f"masto:{n}" for n in range(3, 28, 7)}


def test_show_is_the_card(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = Store(data / "data")
    store.outbox.enqueue(OutboxKind.REPLY, "masto:1", "masto", {"text": "hi"}, "bob")
    [item] = store.outbox.claim_due()
    store.outbox.mark_sent(item, {"native_id": "9"})
    cli(data, capsys, "people", "tag", PRIYA, "advocate")
    cli(data, capsys, "people", "note", PRIYA, "prefers", "email")
    card = as_json(data, capsys, "people", "show", PRIYA)
    assert card["name"] == "User 1" and card["tags"] == ["advocate"] and card["marker"] == "♥"
    assert [(i["identity"], i["items"], i["open"]) for i in card["identities"]] == [(PRIYA, 4, 4)]
    assert [n["text"] for n in card["notes"]] == ["prefers email"] and card["notes"][0]["author"] == "ana"
    assert [i["id"] for i in card["open_items"]] == ["masto:1", "masto:8", "masto:15", "masto:22"]
    assert card["last_reply"] == {"by": "bob", "at": card["last_reply"]["at"], "message_id": "masto:1"}
    # 4 scored items: no "10 before" to compare with (tests/backend/test_people.py has a trend)
    assert card["sentiment"] == {"trend": "unknown", "recent": 0.0, "before": None, "scored": 4}
    assert card["suggested_links"] == ["gh:user1"]  # the same user name elsewhere: suggested, never merged
    code, out = cli(data, capsys, "people", "show", "masto:1")  # an item's id: its author
    assert code == 0 and "advocate" in out and "link?:       gh:user1" in out and "unknown (last +0.00" in out


def test_link_and_unlink_from_the_command_line(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    [merged] = as_json(data, capsys, "people", "link", PRIYA, "gh:user1")
    assert [i["identity"] for i in merged["identities"]] == [PRIYA, "gh:user1"] and merged["items"] == 6
    code, out = cli(data, capsys, "list", "--query", f"person:{merged['id']}")
    assert code == 0 and len(out.splitlines()) == 6
    card = as_json(data, capsys, "people", "show", "user1")  # one person now: no longer ambiguous
    assert card["id"] == merged["id"] and card["suggested_links"] == []
    code, out = cli(data, capsys, "people", "link", "gh:user1", PRIYA)
    assert code == 1 and "already one person" in out
    code, out = cli(data, capsys, "people", "unlink", "gh:user1")
    assert code == 0 and "gh:user1 is a person of its own again" in out
    code, out = cli(data, capsys, "people", "unlink", "gh:user1")
    assert code == 1 and "gh:user1 is not linked to anyone" in out


def test_unclear_references_are_refused_with_the_candidates(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = cli(data, capsys, "people", "tag", "user1", "vip")
    assert code == 1 and "'user1' could be 2 people: gh:user1; masto:user1@example.social" in out
    code, out = cli(data, capsys, "people", "show", "masto:user9@example.social")
    assert code == 1 and "nobody is known as masto:user9@example.social" in out and "Did you mean" in out
    code, out = cli(data, capsys, "people", "show", "p-0123456789")
    assert code == 1 and "there is no person p-0123456789" in out
    code, out = cli(data, capsys, "people", "tag", PRIYA, "#")
    assert code == 1 and "is not a tag" in out and "Traceback" not in out
    code, out = cli(data, capsys, "people", "unlink", "user1")
    assert code == 1 and "unlink takes an identity" in out
    with pytest.raises(SystemExit) as usage:
        main(["people", "tag", PRIYA])  # no tag: argparse's usage error
    assert usage.value.code == 2 and "required: tags" in capsys.readouterr().err
    assert as_json(data, capsys, "events")[-1]["kind"] == "arrived"  # nothing was written


def test_list_query_reads_the_people_also_for_archived_items_and_explains(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli(data, capsys, "people", "tag", PRIYA, "vip")
    code, out = cli(data, capsys, "list", "--query", "author-tag:vip")
    vip = ["masto:1", "masto:8", "masto:15", "masto:22"]
    assert code == 0 and [line.split()[1] for line in out.splitlines()] == vip
    cli(data, capsys, "status", "masto:1", "done")
    cli(data, capsys, "archive", "--older-than", "0")
    code, out = cli(data, capsys, "list", "--query", "author-tag:vip", "--archived")
    assert code == 0 and "masto:1" in out and "(archived)" in out
    code, out = cli(data, capsys, "list", "--query", "author-tag:vip from:staff", "--explain")
    assert code == 0 and "identity index" in out and "['masto:user3@example.social']" in out
    code, out = cli(data, capsys, "people", "list")
    assert code == 0 and "★" in out and "◆" in out  # the vip and the staff account


def test_the_card_says_not_done_and_how_many_more(
    data: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Regression (new-user trial of 2026-12-01): the person screen read "12 items, 12 open"
    of 11 new items and 1 open one, and listed 10 of them with no word of the other 2."""
    from cminbox.core import people_ops
    from cminbox.core.people_ops import PeopleOps
    from cminbox.tui.author_card import card_text

    monkeypatch.setattr(people_ops, "OPEN_LISTED", 3)
    code, out = cli(data, capsys, "people", "show", PRIYA)
    assert code == 0 and "4 items, 4 to do" in out and "…and 1 more" in out and " open" not in out
    store = Store(data / "data")
    card = PeopleOps(store, frozenset(), "ana", store.clock).card(PRIYA)
    shown = card_text(card, store.clock(), full=True).plain
    assert "4 to do" in shown and "…and 1 more" in shown and " open" not in shown


def test_a_staff_answer_on_the_channel_is_the_last_reply_shown_on_one_line(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The team's last reply counts a staff account's answer made on the channel; its line names
    the item answered, and the name (from a server, or an imported file: not made one line at
    ingest) cannot forge a line of the card (review of 2026-12-02)."""
    from datetime import timedelta

    from cminbox.core.models import Answered
    from cminbox.core.triage import SetAnswer

    store = Store(data / "data")
    noor = Answered(
        kind="staff",
        who="masto:user3@example.social",
        handle="@user3",
        name="Noor\ntags:        vip, fake",
        at=store.clock() - timedelta(minutes=2),
        message_id="masto:3",
    )
    store.act(["masto:1"], SetAnswer(noor, detected=True), actor="cminbox")
    code, out = cli(data, capsys, "people", "show", PRIYA)
    assert code == 0
    [line] = [ln for ln in out.splitlines() if ln.startswith("last reply:")]
    assert "Noor" in line and "(to masto:1, on the channel)" in line
    assert not any(ln.startswith("tags:        vip, fake") for ln in out.splitlines())
    reply = as_json(data, capsys, "people", "show", PRIYA)["team_reply"]
    assert (reply["message_id"], reply["reply_id"], reply["on_channel"]) == ("masto:1", "masto:3", True)
