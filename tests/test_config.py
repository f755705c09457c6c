from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from cminbox.core import config
from cminbox.core.config import ConfigError

GOOD = """\
[user]
name = "ana"

[[channels]]
name = "masto"
type = "mastodon"
url = "https://mastodon.example"
interval = 30

[[channels]]
name = "local"
type = "mastodon"
url = "http://127.0.0.1:8080"
backfill_pages = 3

[[escalation.targets]]
name = "oncall"
url = "https://hooks.example/x"
"""


def parse(text: str) -> config.Config:
    return config.parse(text, Path("/etc/cminbox.toml"))


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return info.value


def test_good_config() -> None:
    cfg = parse(GOOD)
    assert [c.name for c in cfg.channels] == ["masto", "local"]
    assert cfg.channels[1].options.backfill_pages == 3
    assert cfg.targets[0].type == "webhook"
    assert cfg.actor == "ana"


def test_example_config_is_valid() -> None:
    cfg = parse(config.EXAMPLE)
    assert cfg.channels and cfg.targets


def test_unknown_key_names_file_line_key_and_suggests() -> None:
    err = error(GOOD.replace("interval = 30", "intervall = 30"))
    assert (err.path, err.line, err.key) == (Path("/etc/cminbox.toml"), 8, "channels[0].intervall")
    assert "Did you mean `interval`?" in str(err)
    assert str(err).startswith("config error in /etc/cminbox.toml, line 8, key `channels[0].intervall`")


def test_unknown_top_level_and_section_keys() -> None:
    assert error("colour = 1\n").key == "colour"
    err = error("[ui]\ntheme = 'x'\nthem = 'y'\n")
    assert (err.line, err.key) == (3, "ui.them")
    assert "Did you mean `theme`?" in str(err)
    err = error(GOOD.replace('url = "https://hooks.example/x"', 'url = "https://hooks.example/x"\nsecret = "s"'))
    assert err.key == "escalation.targets[0].secret"


def test_wrong_type() -> None:
    err = error(GOOD.replace("interval = 30", 'interval = "30"'))
    assert (err.line, err.key) == (8, "channels[0].interval")
    assert "Expected an integer, got a string" in str(err)


def test_unknown_channel_type_lists_the_installed_ones() -> None:
    err = error(GOOD.replace('type = "mastodon"', 'type = "mastadon"', 1))
    assert (err.line, err.key) == (6, "channels[0].type")
    assert "Did you mean 'mastodon'?" in str(err)


def test_per_type_keys_are_checked() -> None:
    err = error(GOOD.replace("backfill_pages = 3", "backfil_pages = 3"))
    assert err.key == "channels[1].backfil_pages"
    assert "backfill_pages" in str(err)


def test_toml_syntax_error_has_a_line() -> None:
    err = error('[[channels]]\nname = "x\n')
    assert err.line == 2
    assert "not valid TOML" in str(err)


def test_remote_plain_http_is_refused() -> None:
    err = error(GOOD.replace("https://mastodon.example", "http://mastodon.example"))
    assert err.key == "channels[0].url"
    assert "https://" in str(err)


def test_duplicate_and_bad_names() -> None:
    assert "unique" in str(error(GOOD.replace('name = "local"', 'name = "masto"')))
    assert "not allowed" in str(error(GOOD.replace('name = "local"', 'name = "Local Box"')))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        config.load(tmp_path / "nope.toml")
    # No explicit path and nothing at the default location: an empty config, not an error.
    assert config.load(None).channels == []


def test_store_section() -> None:
    assert parse(config.EXAMPLE).store.archive_after_days == 90
    assert parse("[store]\narchive_after_days = 0\n").store.archive_after_days == 0
    err = error("[store]\narchive_after_days = -3\n")
    assert (err.line, err.key) == (2, "store.archive_after_days")
    err = error("[store]\narchive_after = 30\n")
    assert err.key == "store.archive_after" and "Did you mean `archive_after_days`?" in str(err)


def test_team_me_is_who_this_instance_acts_as(monkeypatch: pytest.MonkeyPatch) -> None:
    assert config.parse('[team]\nme = "bob"\n\n[user]\nname = "ana"\n').actor == "bob"
    assert config.parse('[user]\nname = "ana"\n').actor == "ana"  # the older spelling, when [team] me is absent
    monkeypatch.setattr(getpass, "getuser", lambda: "carol")
    assert config.parse("").actor == "carol"  # default: the OS user name
    with pytest.raises(ConfigError, match=r"line 2, key `team.mee`: unknown key `mee`.*`me`"):
        config.parse('[team]\nmee = "bob"\n')
