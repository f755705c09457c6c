"""The inbox's compositor: each render asks only the widgets crossing the rows it draws, for
only those rows.

Textual's Compositor picks the widgets of an update by their *clip* (the container's visible
area, for most widgets the whole screen), not by their own region, and asks each for all of
its lines. A `j` in the inbox changes two lines of the list, yet every visible widget (header,
view line, body, list, scroll bar, preview, footer: eight) was asked for every line (the
list's 37) and the result then cut down to those two lines: about a third of a key's time
(issue #14, `bench/side_by_side.py` `j`). This one asks only the widgets that cross the
updated rows, for only those rows, and stops at the first one that covers the updated area
(a list line: the list and its scroll bar, not the body and the screen behind). Full updates
(the first frame, a resize) and the inbox drawn under a dialog's backdrop go through it too,
with the whole screen as the area: the same widgets and lines as Textual's, less the ones a
covering widget hides. The terminal gets the same cells: an update writes only inside its
spans, and Textual's wrote nothing more there than idle cursor moves
(tests/test_tui_line_compositor.py compares the two for partial and full updates and strips).
The bench's `j` at 10k went from 3.5 to 2.7 ms; the bare Textual app's is 2.6.

Textual is pinned exactly; the override replaces one private method whose contract is
"yield (region, clip, strips) with strips for the lines of region ∩ clip", and whose one
caller is `Compositor._render_chops`.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual._compositor import Compositor
from textual.geometry import Region
from textual.strip import Strip


class LineCropCompositor(Compositor):
    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        top, bottom, left, right = crop.y, crop.bottom, crop.x, crop.right
        for widget, (region, clip) in list(self.visible_widgets.items()):
            x, y, width, height = region.intersection(clip)
            if not (width and height) or x >= right or x + width <= left:
                continue
            first, last = max(y, top), min(y + height, bottom)
            if first >= last:
                continue
            # The lines of the widget inside the updated rows, every visible column of them:
            # the caller cuts them at the screen's cuts, and the update writes only its spans.
            shown = Region(x, first, width, last - first)
            yield region, shown, widget.render_lines(Region(x - region.x, first - region.y, width, last - first))
            if x <= left and x + width >= right and first <= top and last >= bottom:
                # Widgets come front to back and paint every cell of their region: the ones
                # behind this one (its container, the screen) would be cut away unseen.
                return
