"""Label and Static that show their text as it is: Textual reads a str as content markup.

Much of what the screens show came from a server or another person (handles, channel errors,
a setup check's answer, a typed filter): read as markup, ``[/]`` ended the app with a
MarkupError and ``[@click=app.quit]`` made a link that ran an action. Every Label and Static of
the TUI comes from here (tests/test_tui_plain_text.py holds the screens to that); a styled
text is a Rich ``Text`` or Textual ``Content``, built from plain pieces.
"""

from __future__ import annotations

from typing import Any

from textual import widgets
from textual.visual import VisualType


class Label(widgets.Label):
    def __init__(self, content: VisualType = "", **options: Any) -> None:
        options.setdefault("markup", False)
        super().__init__(content, **options)


class Static(widgets.Static):
    def __init__(self, content: VisualType = "", **options: Any) -> None:
        options.setdefault("markup", False)
        super().__init__(content, **options)
