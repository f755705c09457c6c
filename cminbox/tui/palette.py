"""Command palette entries generated from the action table (and the saved views)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cminbox.core.macros import Macro
from cminbox.tui.actions import ACTIONS
from cminbox.tui.texts import action_words, is_view_key, key_label


class ActionCommands(Provider):
    def _entries(self) -> list[tuple[str, str, str]]:
        keymap: dict[str, str] = getattr(self.app, "keymap_overrides", {})
        # The inbox's views by name; a number key with no view is left out of the palette.
        names: dict[str, str] = getattr(self.screen, "view_names", {})
        entries = [
            (action_words(spec, names), spec.action, f"{key_label(keymap.get(spec.id, spec.keys))} · {spec.id}")
            for spec in ACTIONS
            if spec.id != "palette" and not (names and is_view_key(spec) and spec.id not in names)
        ]
        # The config's macros, on the screen that runs them (the inbox): each its own entry.
        macros: list[Macro] = getattr(self.screen, "macros", [])
        entries += [
            (f"Macro {m.name}: {m.words}", f"run_macro('{m.name}')", f"{key_label(m.key) or 'm'} · macro")
            for m in macros
        ]
        return entries

    def _run(self, action: str) -> None:
        self.app.call_later(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for title, action, help_text in self._entries():
            yield DiscoveryHit(title, partial(self._run, action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self._run, action), help=help_text)
