"""Change notifications: what another instance committed, learnt without re-reading everything."""

from __future__ import annotations

import threading

from cminbox.core import triage
from tests.backend.conftest import Backend
from tests.factories import make_message


def test_refresh_says_which_items_another_instance_changed(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(i) for i in range(5)])
    b.refresh()
    assert b.refresh() == set()  # nothing new
    a.act(["masto:3"], triage.AddTags(("x",)), actor="ana")
    assert "masto:3" in b.refresh()
    assert b.triage("masto:3").tags == ("x",)
    a.upsert_messages([make_message(9)])
    assert "masto:9" in b.refresh() and b.get_message("masto:9") is not None


def test_wait_for_change_wakes_on_another_instances_commit_and_times_out_otherwise(backend: Backend) -> None:
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    b.refresh()
    assert b.wait_for_change(0.3) is True  # the first call
    assert b.wait_for_change(0.3) is False
    timer = threading.Timer(0.2, lambda: a.act(["masto:1"], triage.AddTags(("x",)), actor="ana"))
    timer.start()
    try:
        assert b.wait_for_change(10.0) is True
    finally:
        timer.join()
    assert "masto:1" in b.refresh()


def test_a_change_is_reported_even_when_a_step_of_this_instance_came_between(backend: Backend) -> None:
    """Every step reloads what others wrote; the next refresh() must still report it (the TUI's
    change check missed a teammate's edit whenever a triage write or an outbox read came first)."""
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(i) for i in range(3)])
    b.refresh()
    a.act(["masto:1"], triage.AddTags(("x",)), actor="ana")
    b.act(["masto:2"], triage.AddTags(("y",)), actor="bob")  # b's own step picks a's change up
    b.outbox.items()
    b.set_draft("masto:0", "draft")
    assert "masto:1" in b.refresh()


def test_a_draft_with_a_nul_character_is_kept_without_it(backend: Backend) -> None:
    """Found by the store-move property test in a new user's run: PostgreSQL refused a draft
    holding NUL, so a TinyDB store with one could not be moved."""
    store = backend.open()
    store.upsert_messages([make_message(0)])
    store.set_draft("masto:0", "on \x00it")
    assert store.get_draft("masto:0") == "on it"
    store.set_draft("masto:0", "\x00")
    assert store.get_draft("masto:0") == ""


def test_a_commit_before_the_first_wait_is_not_missed(backend: Backend) -> None:
    """The team demo's second teammate could mark an item done before the first one's TUI had
    begun listening (PostgreSQL's LISTEN is set up at the first wait): that NOTIFY went to
    nobody and the change showed only with the next one. The first wait says True."""
    a, b = backend.open(), backend.open()
    a.upsert_messages([make_message(1)])
    b.refresh()
    a.act(["masto:1"], triage.AddTags(("x",)), actor="ana")
    assert b.wait_for_change(0.3) is True
    assert "masto:1" in b.refresh()
