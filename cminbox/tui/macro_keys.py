"""Macros in the inbox: `m` picks one, a macro's own `key` (from the config) runs it directly,
on the item under the cursor or on the selection. A mixin of
:class:`~cminbox.tui.inbox_screen.InboxScreen`.

The macro is planned on the store worker (its replies expanded and checked for every item,
its holds read: cminbox.core.macro_run), after the writes queued before it; a refusal is one
notification and nothing changes. Then it goes through :meth:`TriageKeys.write` like any key:
the rows show its triage at once, the store writes it as one action group, and `u` takes the
whole of it back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import BindingsMap

from cminbox.core.errors import CminboxError
from cminbox.core.macros import Macro, compile_macros
from cminbox.core.models import TriageState
from cminbox.tui.store_worker import Write

if TYPE_CHECKING:
    from cminbox.core import macro_run
    from cminbox.tui.macro_dialogs import MacroChoice
    from cminbox.tui.triage_keys import TriageKeys as _Base
else:
    _Base = object


def macro_bindings(macros: list[Macro], into: BindingsMap) -> None:
    """Each macro's own key runs it (the config check made sure no action has that key)."""
    for macro in macros:
        if macro.key:
            into.bind(macro.key, f"run_macro('{macro.name}')", f"Macro {macro.name}", show=False)


class MacroKeys(_Base):
    _macro_planning = False  # a macro key pressed again before its plan landed: run once

    @property
    def macros(self) -> list[Macro]:
        return compile_macros(self.s.config)

    def action_macro(self) -> None:
        if not (found := self.macros):
            self.notify(
                "No macros are configured: add [[macros]] to the config (README: Macros).",
                severity="warning",
                timeout=6,
            )
            return
        if not (ids := self.targets()):
            return

        def chosen(name: str | None) -> None:
            if name:
                self.action_run_macro(name, ids)

        from cminbox.tui.macro_dialogs import MacroPicker  # not on the first frame's path

        self.app.push_screen(MacroPicker(found, len(ids)), chosen)

    def action_run_macro(self, name: str, ids: list[str] | None = None) -> None:
        macro = next((m for m in self.macros if m.name == name), None)
        if macro is None or not (ids := ids or self.targets()):
            return
        if (why := self.refused()) is not None:
            self.notify(str(why), title="Not done", severity="error", timeout=8, markup=False)
            return
        if self._macro_planning:
            return
        # Imported when a macro first runs: planning and running pull in the rules engine,
        # which the first frame does not need (issue #14).
        from cminbox.core import macro_run
        from cminbox.tui.macro_dialogs import MacroConfirm

        inbox = self.s.inbox

        def planned(plan: macro_run.MacroPlan, _states: dict[str, TriageState]) -> None:
            self._macro_planning = False
            if not plan.items:
                self.notify("Nothing to run it on (the items left the inbox)", timeout=3)
            elif plan.held and len(plan.items) > 1:

                def answered(choice: MacroChoice | None) -> None:
                    if choice is None:
                        self.notify("Nothing changed", timeout=2)
                    else:
                        self._run_macro(plan, force=choice == "all")

                self.app.push_screen(MacroConfirm(plan), answered)
            else:
                self._run_macro(plan, force=True)  # one item: your explicit choice, never held

        def failed(exc: CminboxError) -> None:
            self._macro_planning = False
            self.write_failed(exc, f"Macro {macro.name} not run")

        self._macro_planning = True
        self.writes.submit(Write(lambda: macro_run.plan(inbox, macro, ids), {}, planned, failed))

    def _run_macro(self, plan: macro_run.MacroPlan, *, force: bool) -> None:
        from cminbox.core import macro_run

        ids = [i.id for i in plan.running(force)]
        if not ids:
            self.notify("Nothing changed (every item was held back)", timeout=3)
            return
        action, _ = macro_run.triage_action(self.s.inbox, plan.macro)

        def ran(result: macro_run.MacroResult) -> None:
            # The engine's delivery loop sends the queued replies: no notice per reply here.
            self.notify(result.summary() + (f" · {self.undo_key} undoes" if result.act else ""), timeout=5)

        inbox = self.s.inbox
        self.write(
            ids, action if plan.macro.triages else None, lambda: macro_run.run(inbox, plan, force=force), "", ran
        )
