"""First run: the guided setup checks the token against a real server, then writes the config
(no token in it) and stores the token in the keyring; the demo button opens the demo inbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
from textual.widgets import Button

from cminbox.core import config as config_mod
from cminbox.tui.app import CminboxApp
from cminbox.tui.first_run import FirstRunScreen


async def until(pilot: Any, condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """The check runs in a worker that starts after the click is handled: wait for its outcome."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("condition not met in time")


async def test_guided_setup_checks_and_saves(tmp_path: Path, demo_server: str) -> None:
    cfg = tmp_path / "config" / "config.toml"
    configured: list[bool] = []
    app = CminboxApp(
        None, blink=False, first_run=lambda: FirstRunScreen(cfg, lambda: None, lambda: configured.append(True))
    )
    async with app.run_test(size=(100, 40)) as pilot:
        app.screen.query_one("#setup", Button).press()  # pressed, not clicked: layout-independent
        await pilot.pause()
        for field, value in (("#setup-name", "lumen"), ("#setup-url", demo_server), ("#setup-token", "wrong")):
            app.screen.query_one(field).value = value  # type: ignore[attr-defined]
        app.screen.query_one("#setup-save", Button).press()
        await until(pilot, lambda: "Could not connect" in str(app.screen.query_one("#setup-result").render()))
        assert not cfg.exists()
        app.screen.query_one("#setup-token").value = "demo-token"  # type: ignore[attr-defined]
        app.screen.query_one("#setup-save", Button).press()
        await until(pilot, lambda: bool(configured))
    assert configured == [True]
    assert keyring.get_password("cminbox", "lumen") == "demo-token"
    text = cfg.read_text()
    assert "demo-token" not in text
    loaded = config_mod.load(cfg)
    assert [(c.name, c.url) for c in loaded.channels] == [("lumen", demo_server)]


async def test_demo_button_calls_back(tmp_path: Path) -> None:
    started: list[bool] = []
    app = CminboxApp(
        None,
        blink=False,
        first_run=lambda: FirstRunScreen(tmp_path / "c.toml", lambda: started.append(True), lambda: None),
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.press("enter")
    assert started == [True]


async def test_esc_closes_the_form_then_q_or_esc_quits(tmp_path: Path) -> None:
    """Regression (new-user trial of 2026-12-02): only ctrl+q left the first-run screen, and
    nothing said so; q typed into a box is still a q."""
    for last in ("q", "escape"):
        app = CminboxApp(
            None, blink=False, first_run=lambda: FirstRunScreen(tmp_path / "c.toml", lambda: None, lambda: None)
        )
        async with app.run_test(size=(100, 32)) as pilot:
            app.screen.query_one("#setup", Button).press()
            await pilot.pause()
            await pilot.press("q")  # the name box has the focus: a letter in it
            assert app.screen.query_one("#setup-name").value == "q"  # type: ignore[attr-defined]
            await pilot.press("escape")  # the form closes; the screen stays
            await pilot.pause()
            assert not app.screen.query_one("#setup-form").display and app.is_running
            await pilot.press(last)
            await pilot.pause()
            assert not app.is_running
