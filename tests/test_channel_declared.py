"""Each built-in channel type's declaration (cminbox/channels/declared/) is what its adapter
class carries, and reading it (the config, `cminbox list`, the TUI's first frame) imports
neither the adapter nor its HTTP client (issue #14)."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cminbox.core import registry
from tests.conftest import ROOT

ENTRY_POINTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]


def test_the_built_in_table_is_the_distribution_s_entry_points() -> None:
    assert sorted(registry.BUILT_IN) == sorted(ENTRY_POINTS[registry.CHANNEL_GROUP])
    for name, module in registry.BUILT_IN.items():
        adapter = ENTRY_POINTS[registry.CHANNEL_GROUP][name].split(":")[0]
        assert module.rsplit(".", 1)[1] == adapter.rsplit(".", 1)[1], (name, module, adapter)


@pytest.mark.parametrize("name", sorted(registry.BUILT_IN))
def test_a_declaration_is_the_objects_its_adapter_carries(name: str) -> None:
    declared, cls = registry.declaration(name), registry.load_channel(name)
    assert declared.type_name == cls.type_name == name
    assert declared.capabilities is cls.capabilities
    assert declared.traits is cls.traits
    assert declared.Options is cls.Options
    assert (declared.check_options is not None) == cls.traits.checks_options
    if declared.check_options is not None and declared.Options is not None:
        default = declared.Options()
        assert declared.check_options(default) == cls.check_options(default)  # type: ignore[attr-defined]


def test_an_unknown_type_is_refused_by_name() -> None:
    with pytest.raises(registry.UnknownTypeError, match="unknown channel type 'nope'"):
        registry.declaration("nope")


CONFIG = """
[[channels]]
name = "m"
type = "mastodon"
url = "https://m.example"
[[channels]]
name = "e"
type = "email"
url = "imaps://mail.example"
smtp_url = "smtps://mail.example:465"
[[channels]]
name = "x"
type = "matrix"
url = "https://matrix.example"
[[channels]]
name = "b"
type = "bluesky"
url = "https://bsky.example"
[[channels]]
name = "g"
type = "github"
repos = ["acme/app"]
[[channels]]
name = "d"
type = "discourse"
url = "https://forum.example"
[[channels]]
name = "r"
type = "reddit"
client_id = "abc"
[[channels]]
name = "f"
type = "feed"
url = "https://blog.example/feed.xml"
"""


def test_a_config_of_every_type_loads_without_any_adapter(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    code = (
        "import json, sys; from cminbox.core import config"
        f"; c = config.load({str(config)!r}); assert len(c.channels) == 8"
        "; wanted = ('httpx', 'cminbox.channels', 'importlib.metadata')"
        # (a None entry stops an import: cminbox/__init__.py keeps httpx's CLI out with one)
        "; print(json.dumps(sorted(m for m, v in sys.modules.items() if m.startswith(wanted) and v is not None)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    loaded = json.loads(out)
    assert not [m for m in loaded if m.startswith("httpx") or m == "importlib.metadata"], loaded
    adapters = [
        m for m in loaded if m.startswith("cminbox.channels.") and not m.startswith("cminbox.channels.declared")
    ]
    assert adapters == ["cminbox.channels.github_options"], adapters  # GitHub's options live beside it


def test_a_declared_check_still_refuses_bad_options(tmp_path: Path) -> None:
    from cminbox.core import config

    with pytest.raises(config.ConfigError, match="smtp_url"):
        config.parse('[[channels]]\nname = "e"\ntype = "email"\nurl = "imaps://mail.example"\n')
    with pytest.raises(config.ConfigError, match="is not an https URL"):
        config.parse('[[channels]]\nname = "r"\ntype = "reddit"\nclient_id = "a"\nauth_url = "http://evil.example/t"\n')
