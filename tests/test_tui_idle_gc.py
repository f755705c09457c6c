"""The TUI's garbage-collection policy: full collections while the user is idle."""

from __future__ import annotations

import gc

import pytest

from cminbox.tui import idle_gc
from cminbox.tui.idle_gc import IdleCollector


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_collects_only_when_idle_and_at_most_every_few_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime()
    monkeypatch.setattr(idle_gc.time, "monotonic", clock.monotonic)
    collected: list[float] = []
    monkeypatch.setattr(idle_gc.gc, "collect", lambda *a: collected.append(clock.now) or 0)
    collector = IdleCollector()
    for _ in range(100):  # a key every 0.2 s for 20 s: never idle
        clock.now += 0.2
        collector.note_input()
        assert not collector.tick()
    clock.now += idle_gc.IDLE_AFTER + 0.1  # the user stops to read
    assert collector.tick() and len(collected) == 1
    clock.now += 1
    assert not collector.tick()  # not again right away


def test_non_stop_input_still_collects_eventually(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeTime()
    monkeypatch.setattr(idle_gc.time, "monotonic", clock.monotonic)
    monkeypatch.setattr(idle_gc.gc, "collect", lambda *a: 0)
    collector = IdleCollector()
    ticks = 0
    while not collector.tick():
        clock.now += 0.2
        collector.note_input()
        ticks += 1
    assert ticks * 0.2 == pytest.approx(idle_gc.AT_LEAST, abs=0.3)


def test_install_defers_automatic_full_collections_and_uninstall_restores() -> None:
    before = gc.get_threshold()
    collector = IdleCollector()
    collector.install()
    try:
        assert gc.get_threshold()[2] == idle_gc.FULL_THRESHOLD
    finally:
        collector.uninstall()
    assert gc.get_threshold() == before
