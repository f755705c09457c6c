"""Themes: shipped files load; a user's theme in the config dir is picked up; a bad file is
reported by name; an unknown theme falls back to the default with a notice."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from cminbox.core.clock import FrozenClock
from cminbox.tui.themes import DEFAULT_THEME, load_themes
from tests.tui_fixtures import CONFIG, make_app, make_services


def test_shipped_themes_load() -> None:
    themes, problems = load_themes()
    assert {"cminbox-dark", "cminbox-light", "high-contrast", "incident"} <= {t.name for t in themes}
    assert problems == []


async def test_user_theme_and_bad_file(tmp_path: Path, clock: FrozenClock) -> None:
    folder = platformdirs.user_config_path("cminbox") / "themes"
    folder.mkdir(parents=True)
    (folder / "mine.toml").write_text('name = "mine"\nprimary = "#ff00ff"\n[variables]\ntag = "#00ff00"\n')
    (folder / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    config = CONFIG.replace('theme = "cminbox-dark"', 'theme = "mine"')
    app = make_app(make_services(tmp_path, clock, config_text=config))
    async with app.run_test(size=(100, 30)):
        assert app.theme == "mine"
        messages = [n.message for n in app._notifications]
        assert any(str(folder / "broken.toml") in m for m in messages)


async def test_unknown_theme_falls_back(tmp_path: Path, clock: FrozenClock) -> None:
    config = CONFIG.replace('theme = "cminbox-dark"', 'theme = "no-such-theme"')
    app = make_app(make_services(tmp_path, clock, config_text=config))
    async with app.run_test(size=(100, 30)):
        assert app.theme == DEFAULT_THEME
        assert any("no-such-theme" in n.message for n in app._notifications)


async def test_no_color_runs(tmp_path: Path, clock: FrozenClock, monkeypatch: object) -> None:
    monkeypatch.setenv("NO_COLOR", "1")  # type: ignore[attr-defined]
    app = make_app(make_services(tmp_path, clock))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("j", "d")
        assert app.screen.query_one("InboxList") is not None


async def test_the_configured_theme_styles_the_first_parse(
    tmp_path: Path, clock: FrozenClock, monkeypatch: object
) -> None:
    """The theme is set before the stylesheet is first parsed: setting it at mount made Textual
    parse every stylesheet again and restyle the screen (issue #14: ~8 ms of the first frame)."""
    from textual.css.stylesheet import Stylesheet

    reparsed: list[int] = []
    original = Stylesheet.reparse

    def counting(self: Stylesheet) -> None:
        reparsed.append(1)
        original(self)

    monkeypatch.setattr(Stylesheet, "reparse", counting)  # type: ignore[attr-defined]
    config = CONFIG.replace('theme = "cminbox-light"', 'theme = "cminbox-dark"').replace(
        'theme = "cminbox-dark"', 'theme = "cminbox-light"'
    )
    app = make_app(make_services(tmp_path, clock, config_text=config))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.theme == "cminbox-light"
        assert {"-theme-cminbox-light", "-light-mode"} <= set(app.classes)
        assert "-dark-mode" not in app.classes
        assert app.screen.styles.background == app.current_theme.to_color_system().background
        assert reparsed == []
