"""`[[macros]]` in the config: what `cminbox config check` refuses, with file, line and key."""

from __future__ import annotations

import pytest

from cminbox.core.config import ConfigError
from cminbox.core.macros import compile_macros
from tests.macro_fixtures import macro_config


def error(extra: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        macro_config(extra)
    return info.value


def line_of(text: str, extra: str) -> int:
    """The line of the whole config (fixture + ``extra``) that holds ``text`` (its last one)."""
    from tests.macro_fixtures import BASE, MACROS, TEAM

    whole = BASE.replace('[team]\nme = "ana"\n', TEAM) + MACROS + extra
    return max(i for i, line in enumerate(whole.splitlines(), 1) if text in line)


def test_the_fixture_macros_compile_with_their_words() -> None:
    macros = compile_macros(macro_config())
    assert [(m.name, m.key, m.words) for m in macros] == [
        ("outage", "O", "tag outage, reply “status page”, done"),
        ("page", "", "priority urgent, note, escalate → oncall"),
    ]


@pytest.mark.parametrize(
    ("extra", "key", "said"),
    [
        (
            '[[macros]]\nname = "x"\nsteps = [{reply = "status-page"}]\n',
            "macros[2].steps[0].reply",
            "no saved reply named 'status-page'",
        ),
        (
            '[[macros]]\nname = "x"\nsteps = [{escalate = {target = "pager"}}]\n',
            "macros[2].steps[0].escalate.target",
            "no escalation target named 'pager'",
        ),
        ('[[macros]]\nname = "x"\nkey = "d"\nsteps = [{done = true}]\n', "macros[2].key", "the `done` action's"),
        ('[[macros]]\nname = "x"\nkey = "O"\nsteps = [{done = true}]\n', "macros[2].key", "macro 'outage''s"),
        ('[[macros]]\nname = "x"\nsteps = [{close = true}]\n', "macros[2].steps[0].close", "unknown key `close`"),
        (
            '[[macros]]\nname = "x"\nsteps = [{tag = ["a"], done = true}]\n',
            "macros[2].steps[0]",
            "each step is one inline table of one key",
        ),
        (
            '[[macros]]\nname = "x"\nsteps = [{assign = "bob"}]\n',
            "macros[2].steps[0].assign",
            "'bob' is not a teammate",
        ),
        ('[[macros]]\nname = "x"\nsteps = []\n', "macros[2].steps", "Expected an array of length >= 1"),
        ('[[macros]]\nname = "outage"\nsteps = [{done = true}]\n', "macros[2].name", "two macros are named"),
    ],
)
def test_config_check_names_file_line_and_key(extra: str, key: str, said: str) -> None:
    exc = error(extra)
    assert exc.key == key and said in exc.problem, str(exc)
    assert str(exc).startswith("config error in /etc/cminbox.toml, line ")
    assert exc.line == line_of("steps" if key.startswith("macros[2].steps") else key.rsplit(".", 1)[-1] + " =", extra)


def test_a_remapped_action_frees_its_key_and_takes_the_new_one() -> None:
    assert compile_macros(
        macro_config('[keys]\ndone = "D"\n[[macros]]\nname = "x"\nkey = "d"\nsteps = [{done = true}]\n')
    )
    exc = error('[keys]\ndone = "X"\n[[macros]]\nname = "x"\nkey = "X"\nsteps = [{done = true}]\n')
    assert exc.key == "macros[2].key" and "`done`" in exc.problem
