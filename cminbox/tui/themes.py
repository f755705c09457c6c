"""Themes are TOML files (shipped in ``themes/``, user ones in the config dir) turned into
Textual themes. App colours (status, priority, tags) are theme variables with defaults,
so a theme may set only what it cares about. A bad file is reported by name, not fatal."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from textual.color import Color, ColorParseError
from textual.theme import Theme

DEFAULT_THEME = "cminbox-dark"
THEME_KEYS = (
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "success",
    "warning",
    "error",
    "boost",
)
# Literal colours: Textual does not resolve "$primary" inside variable defaults. These suit
# dark and light backgrounds alike, for Textual's built-in themes picked from the palette.
VARIABLE_DEFAULTS = {
    "status-new": "#3d8fd1",
    "status-open": "#9aa0a6",
    "status-waiting": "#7f8790",
    "status-escalated": "#e0484e",
    "status-done": "#6b7280",
    "priority-urgent": "#e0484e",
    "priority-high": "#d98a2b",
    "tag": "#3f9f74",
    "meta": "#7f8790",
    "fresh": "#d9a82b",
    "selected": "#9b6fd6",
}


def theme_dirs() -> list[Path]:
    """Shipped themes (installed share dir, or the source checkout), then the user's."""
    dirs = [Path(sys.prefix) / "share" / "cminbox" / "themes", Path(__file__).resolve().parents[2] / "themes"]
    dirs.append(platformdirs.user_config_path("cminbox") / "themes")
    return [d for d in dirs if d.is_dir()]


def load_theme(path: Path) -> Theme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"theme file {path} cannot be read: {exc}") from None
    unknown = set(data) - {"name", "dark", "variables", *THEME_KEYS}
    if unknown:
        raise ValueError(f"theme file {path}: unknown keys {', '.join(sorted(unknown))}")
    if "primary" not in data:
        raise ValueError(f"theme file {path}: `primary` is required")
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or set(variables) - set(VARIABLE_DEFAULTS):
        bad = sorted(set(variables) - set(VARIABLE_DEFAULTS)) if isinstance(variables, dict) else ["variables"]
        raise ValueError(f"theme file {path}: unknown variables {', '.join(bad)}")
    colours: dict[str, Any] = {k: str(data[k]) for k in THEME_KEYS if k in data}
    for key, value in [*colours.items(), *((f"variables.{k}", str(v)) for k, v in variables.items())]:
        try:
            Color.parse(value)
        except ColorParseError:
            raise ValueError(f"theme file {path}: `{key}` = {value!r} is not a colour (use #rrggbb)") from None
    try:
        return Theme(
            name=str(data.get("name", path.stem)),
            dark=bool(data.get("dark", True)),
            variables={k: str(v) for k, v in variables.items()},
            **colours,
        )
    except Exception as exc:  # Textual validates colours
        raise ValueError(f"theme file {path}: {exc}") from None


def load_themes() -> tuple[list[Theme], list[str]]:
    """All loadable themes, and one message per file that could not be loaded."""
    themes: dict[str, Theme] = {}
    problems: list[str] = []
    for folder in theme_dirs():
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme(path)
            except ValueError as exc:
                problems.append(str(exc))
                continue
            themes[theme.name] = theme
    return list(themes.values()), problems
