"""`[[rules]]` in the config: a bad rule is refused with the file, the line, the key and, for a
query, its column; `config check` exits 2 with the same words."""

from __future__ import annotations

from pathlib import Path

import pytest

from cminbox.core import config
from cminbox.core.rules import compile_rules
from tests.conftest import run_cli
from tests.rules_fixtures import BASE, PATH


def refused(rules: str) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as caught:
        config.parse(BASE + rules, PATH)
    return caught.value


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate((BASE + text).splitlines(), 1) if line.startswith(start))


FINE = """
[[rules]]
name = "fine"
when = "tag:x"
tag = ["y"]
"""


def test_a_query_that_does_not_parse_names_line_key_and_column() -> None:
    rules = FINE * 3 + '\n[[rules]]\nname = "bad"\nwhen = "tag:outage -statsu:new"\ntag = ["x"]\n'
    err = refused(rules.replace('name = "fine"', 'name = "f"', 1).replace('name = "fine"', 'name = "g"', 1))
    assert (err.path, err.key, err.line) == (PATH, "rules[3].when", line_of(rules, 'when = "tag:outage'))
    assert 'col 13: unknown field "statsu" (did you mean "status"?)' in str(err)


@pytest.mark.parametrize(
    ("rule", "key", "said"),
    [
        ('when = ""\ntag = ["x"]', "rules[0].when", "`when` is empty"),
        ('when = "is:mine"\ntag = ["x"]', "rules[0].when", "rules run on whichever instance polls"),
        ('when = "tag:x"', "rules[0]", "does nothing"),
        ('when = "tag:x"\nreply = "ack"', "rules[0].reply", "auto_reply = true"),
        ('when = "tag:x"\nreply = "akc"\nauto_reply = true', "rules[0].reply", "Did you mean 'ack'?"),
        ('when = "tag:x"\nauto_reply = true', "rules[0].auto_reply", "without `reply`"),
        ('when = "tag:x"\nescalate = "pager"', "rules[0].escalate", "Targets: oncall"),
        ('when = "tag:x"\nescalate_note = "hm"\ntag = ["x"]', "rules[0].escalate_note", "without `escalate`"),
        ('when = "tag:x"\nmute = "spam"\nstatus = "open"', "rules[0].status", "both set the item's status"),
        ('when = "tag:x"\nsnooze = "someday"', "rules[0].snooze", "is not a time"),
        ('when = "tag:x"\ntag = ["  "]', "rules[0].tag[0]", "is not a tag"),
        ('when = "tag:x"\ntag = ["a"]\nuntag = ["A"]', "rules[0].untag", "both name a"),
        ('when = "tag:x"\npriority = "hgih"', "rules[0].priority", "must be one of"),
        ('when = "tag:x"\ntag = ["x"]\nwhenn = "y"', "rules[0].whenn", "Did you mean `when`?"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_key(rule: str, key: str, said: str) -> None:
    text = f'\n[[rules]]\nname = "r"\n{rule}\n'
    err = refused(text)
    assert (err.key, err.path) == (key, PATH) and said in str(err), str(err)
    assert err.line is not None and err.line >= line_of(text, "[[rules]]")


def test_names_are_unique_and_assign_names_a_member() -> None:
    assert refused(FINE + FINE).key == "rules[1].name"
    members = BASE.replace('me = "ana"', 'me = "ana"\nmembers = ["ana", "bob"]')
    with pytest.raises(config.ConfigError, match="'bbo' is not a teammate") as caught:
        config.parse(members + '\n[[rules]]\nname = "r"\nwhen = "tag:x"\nassign = "bbo"\n', PATH)
    assert caught.value.key == "rules[0].assign"
    cfg = config.parse(members + '\n[[rules]]\nname = "r"\nwhen = "tag:x"\nassign = "BOB"\n', PATH)
    assert compile_rules(cfg)[0].assign == "bob"  # as [team] members spells it


def test_config_check_exits_2_with_file_line_key_and_column(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(BASE + '\n[[rules]]\nname = "r"\nwhen = "(tag:x"\ntag = ["y"]\n', encoding="utf-8")
    result = run_cli("--config", str(path), "config", "check")
    assert result.returncode == 2
    line = line_of('\n[[rules]]\nname = "r"\nwhen = "(tag:x"\n', 'when = "(tag:x"')
    assert f"{path}, line {line}, key `rules[0].when`: col 1: unclosed" in result.stderr, result.stderr
