"""``cminbox config schema``: a JSON Schema (draft 2020-12) of the config file, for editors.

msgspec writes most of it from the declarations in ``config_schema`` (types, bounds, choices,
defaults, descriptions, examples, unknown keys refused). Added here, from the other tables
that declare what a key may be:

- ``[[channels]]``: the keys every channel has, the installed types as the choices of
  ``type``, and for each type (``if`` type is X ``then``) its ``Options`` keys, whether it needs
  ``url``, and no other key;
- ``[keys]``: the action ids of ``keymap.ACTIONS``, each with its description and default keys;
- ``[[escalation.targets]] type``: the installed target types.

The checks of ``config_checks`` (unique names, ``me`` among ``members``, no password in a DSN,
the files that must exist, ...) are not in the schema: ``cminbox config check`` runs them.
Editors that read JSON Schema for TOML (Taplo, and Even Better TOML in VS Code, which uses it)
pick it up from a ``#:schema ./config.schema.json`` first line.
"""

from __future__ import annotations

from typing import Any

import msgspec

from cminbox.core import keymap, registry
from cminbox.core.config_docs import channel_types, doc_of
from cminbox.core.config_schema import ChannelConfig, ConfigFile, TargetConfig
from cminbox.core.config_where import fields

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def schema() -> dict[str, Any]:
    types = channel_types()
    option_structs = {name: cls.Options for name, cls in types.items() if cls.Options is not None}
    extra = list(dict.fromkeys(option_structs.values()))
    _, defs = msgspec.json.schema_components([ConfigFile, ChannelConfig, *extra], ref_template="#/$defs/{name}")
    root = defs.pop(ConfigFile.__name__)
    common = defs.pop(ChannelConfig.__name__)
    per_struct = {struct: defs.pop(struct.__name__) for struct in extra}
    # Only the TOML keys (not the fields the loader fills in, e.g. the parsed options).
    keys = fields(ChannelConfig)
    common_props = {k: v for k, v in common["properties"].items() if k in keys}
    common_props["type"] = {**common_props["type"], "enum": list(types)}
    branches = []
    for name, cls in types.items():
        own = per_struct[option_structs[name]]["properties"] if name in option_structs else {}
        required = ["name", "type", *(["url"] if cls.traits.needs_url else [])]
        branches.append(
            {
                "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
                "then": {
                    # The common keys are checked above: here they are only allowed.
                    "properties": {**dict.fromkeys(common_props, True), **own},
                    "required": required,
                    "additionalProperties": False,
                },
            }
        )
    props = root["properties"]
    props["channels"] = {
        "type": "array",
        "description": doc_of(ChannelConfig),
        "items": {
            "type": "object",
            "properties": common_props,
            "required": ["name", "type"],
            "allOf": branches,
        },
        "default": [],
    }
    props["keys"] = {
        **{k: v for k, v in props["keys"].items() if k != "additionalProperties"},
        "properties": {
            spec.id: {"type": "string", "description": spec.description, "default": spec.keys}
            for spec in keymap.ACTIONS
        },
        "additionalProperties": False,
    }
    target = defs[TargetConfig.__name__]["properties"]["type"]
    target["enum"] = registry.target_types()
    for definition in defs.values():
        definition.pop("title", None)  # the class names say nothing to a user
    return {
        "$schema": DRAFT,
        **root,
        "title": "cminbox configuration",
        "description": "cminbox's config.toml (`cminbox config example` prints a commented one).",
        "$defs": defs,
    }
