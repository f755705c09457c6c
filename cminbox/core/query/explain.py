"""``cminbox list --query Q --explain``: which parts of a query run where, on each backend."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from cminbox.core.query.context import NOBODY, needs_people
from cminbox.core.query.nodes import And, Node
from cminbox.core.query.plan import index_kind
from cminbox.core.query.printer import to_text
from cminbox.core.query.sql import Param, compile_sql, in_sql, node_sql

_INDEX = {
    "exact": "index (answered by the in-memory index)",
    "narrow": "index, then checked per item (the index narrows)",
}


def _params(params: list[Param]) -> str:
    return "[" + ", ".join(repr(p.isoformat() if isinstance(p, datetime) else p) for p in params) + "]"


def explain(node: Node | None, now: datetime, me: str, staff: Sequence[str] = ()) -> str:
    """Part by part (the top-level AND's parts): the TinyDB store's plan and PostgreSQL's;
    ``staff``: the configured staff identities (a parameter of ``from:staff`` in SQL)."""
    if node is None:
        return "empty query: every item matches (no filter)"
    parts = node.items if isinstance(node, And) else (node,)
    width = min(40, max(len(to_text(p)) for p in parts))
    lines = [f"query: {to_text(node)}", "", "TinyDB store (in-memory indexes):"]
    for part in parts:
        if needs_people(part) and index_kind(part, NOBODY) == "exact":
            lines.append(f"  {to_text(part):<{width}}  index (the people's identities, then the identity index)")
            continue
        how = index_kind(part)
        python = "per item (Python, with the people index)" if needs_people(part) else "per item (Python)"
        lines.append(f"  {to_text(part):<{width}}  {_INDEX[how] if how else python}")
    lines += ["", "PostgreSQL store:"]
    for part in parts:
        if in_sql(part):
            sql, params = node_sql(part, now, me, staff)
            lines.append(f"  {to_text(part):<{width}}  SQL: {sql}  params {_params(params)}")
        else:
            lines.append(f"  {to_text(part):<{width}}  Python, per row (non-ASCII text: lower() differs)")
    where, params, residue = compile_sql(node, now, me, staff)
    lines += ["", f"WHERE {where}", f"params {_params(params)}"]
    lines.append(f"then in Python: {to_text(residue)}" if residue is not None else "nothing left for Python")
    return "\n".join(lines)
