"""Command palette entries generated from the action table (and the saved views)."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cminbox.core.macros import Macro
from cminbox.tui.actions import ACTIONS
from cminbox.tui.help_screen import key_label


class ActionCommands(Provider):
    def _entries(self) -> list[tuple[str, str, str]]:
        keymap: dict[str, str] = getattr(self.app, "keymap_overrides", {})
        entries = [
            (spec.description, spec.action, f"{key_label(keymap.get(spec.id, spec.keys))} · {spec.id}")
            for spec in ACTIONS
            if spec.id != "palette"
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
