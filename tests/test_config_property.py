"""Property tests generated from the config declarations: any value a key's declaration
accepts, written as the example file writes it, loads back unchanged (or is refused by a named
cross-key check, with the file, line and key), and the JSON Schema accepts it; any value just
outside a declared range or choice is refused by the loader (file, line, key, what is allowed)
and by the schema alike."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cminbox.core import config, registry
from cminbox.core.config_docs import table_lines
from cminbox.core.config_jsonschema import schema
from cminbox.core.config_schema import (
    ChannelConfig,
    RuleConfig,
    SavedReply,
    StoreConfig,
    TargetConfig,
    TeamConfig,
    UIConfig,
    ViewConfig,
)
from tests.config_strategies import bounded, invalid, values_of

PATH = Path("/etc/cminbox.toml")
_OPTIONS = registry.load_channel("mastodon").Options
assert _OPTIONS is not None
MASTODON_OPTIONS: type[msgspec.Struct] = _OPTIONS
VALIDATOR = jsonschema.Draft202012Validator(schema())


@dataclass(frozen=True)
class Table:
    """One table of the file: its header, its struct, the keys fixed for it to be usable, and
    where the loaded config keeps it."""

    header: str
    struct: type[msgspec.Struct]
    read: Callable[[config.Config], Any]
    fixed: dict[str, Any]
    key: str  # the dotted key of the table in errors

    def text(self, values: dict[str, Any], options: dict[str, Any] | None = None) -> str:
        lines = [self.header, *table_lines(self.struct, values)]
        if options is not None:
            lines += table_lines(MASTODON_OPTIONS, options)
        return "\n".join(lines) + "\n"


TABLES = [
    Table("[team]", TeamConfig, lambda c: c.team, {}, "team"),
    Table("[ui]", UIConfig, lambda c: c.ui, {}, "ui"),
    Table("[store]", StoreConfig, lambda c: c.store, {}, "store"),
    Table(
        "[[channels]]",
        ChannelConfig,
        lambda c: c.channels[0],
        {"type": "mastodon", "url": "https://mastodon.example"},
        "channels[0]",
    ),
    Table(
        "[[escalation.targets]]",
        TargetConfig,
        lambda c: c.targets[0],
        {"type": "webhook", "url": "https://hooks.example"},
        "escalation.targets[0]",
    ),
    Table("[[views]]", ViewConfig, lambda c: c.document.views[0], {}, "views[0]"),
    Table("[[saved_replies]]", SavedReply, lambda c: c.saved_replies[0], {}, "saved_replies[0]"),
    Table("[[rules]]", RuleConfig, lambda c: c.rules[0], {"when": "tag:x"}, "rules[0]"),
]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def schema_errors(text: str) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(tomllib.loads(text))]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: t.header)
@FAST
@given(data=st.data())
def test_declared_values_load_back_unchanged(table: Table, data: st.DataObject) -> None:
    values = data.draw(values_of(table.struct, fixed=table.fixed), label="values")
    options = data.draw(values_of(MASTODON_OPTIONS), label="options") if table.struct is ChannelConfig else None
    text = table.text(values, options)
    try:
        cfg = config.parse(text, PATH)
    except config.ConfigError as exc:
        # Only a cross-key check may refuse declared values, and it names the key in this table.
        assert exc.key is not None and (exc.key == table.key or exc.key.startswith(table.key + ".")), str(exc)
        assert exc.line is not None and exc.path == PATH
        assert "is not allowed here" not in exc.problem and "Expected" not in exc.problem, str(exc)
        return
    loaded = table.read(cfg)
    assert {k: getattr(loaded, k) for k in values} == values
    if options is not None:
        assert {k: getattr(loaded.options, k) for k in options} == options
    assert schema_errors(text) == []


CASES = [(t, b) for t in TABLES for b in bounded(t.struct)] + [(TABLES[3], b) for b in bounded(MASTODON_OPTIONS)]


@pytest.mark.parametrize(("table", "bad"), CASES, ids=lambda v: v.header if isinstance(v, Table) else v.option.name)
@FAST
@given(data=st.data())
def test_values_outside_a_declaration_are_refused_by_the_loader_and_the_schema(
    table: Table, bad: Any, data: st.DataObject
) -> None:
    value = data.draw(invalid(bad.option.type), label="value")
    if bad.option.name in table.struct.__struct_fields__:
        text = table.text({**table.fixed, bad.option.name: value})
    else:  # a key of the channel type's options
        text = table.text(table.fixed, {bad.option.name: value})
    with pytest.raises(config.ConfigError) as caught:
        config.parse(text, PATH)
    err = caught.value
    assert err.key == f"{table.key}.{bad.option.name}", str(err)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith(f"{bad.option.name} = "))
    assert err.line == line, str(err)
    assert f"`{bad.option.name}` must be" in str(err), str(err)
    assert schema_errors(text), text
