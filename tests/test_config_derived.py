"""Every config option is declared once (cminbox/core/config_schema.py, and each channel type's
``Options``); the example file, the README's key table, the JSON Schema and the unknown-key
hints are derived from those declarations, so none of them can drift from what the loader
accepts."""

from __future__ import annotations

import json
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import msgspec.inspect as mi
import pytest

from cminbox import cli
from cminbox.core import config, config_docs, config_schema, keymap
from cminbox.core.config_docs import TABLE_END, TABLE_START, channel_types, docs_table, example, options
from cminbox.core.config_jsonschema import schema
from cminbox.core.config_schema import ChannelConfig, ConfigFile
from cminbox.core.config_where import fields
from cminbox.core.views import Sort
from cminbox.demo.session import demo_config_text
from tests.conftest import ROOT

PATH = Path("/etc/cminbox.toml")


def error(text: str) -> config.ConfigError:
    with pytest.raises(config.ConfigError) as info:
        config.parse(text, PATH)
    return info.value


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema())


def schema_errors(text: str) -> list[tuple[tuple[Any, ...], str]]:
    return [(tuple(e.absolute_path), e.message) for e in validator().iter_errors(tomllib.loads(text))]


def tables(struct: type[msgspec.Struct] = ConfigFile, path: tuple[str | int, ...] = ()) -> list[Any]:
    """(path of a table, its struct) for every table the declarations hold."""
    found: list[Any] = []
    for option in options(struct):
        t = option.type
        if isinstance(t, mi.StructType):
            found += [((*path, option.name), t.cls), *tables(t.cls, (*path, option.name))]
        elif isinstance(t, mi.ListType) and isinstance(t.item_type, mi.StructType):
            found.append(((*path, option.name, 0), t.item_type.cls))
    return found


# ------------------------------------------------------------------ the declarations
def test_every_key_has_a_description_and_every_required_key_an_example() -> None:
    structs = [struct for _, struct in tables()] + [ChannelConfig]
    for struct in structs:
        for option in options(struct):
            assert option.description or isinstance(option.type, mi.StructType | mi.ListType), (struct, option.name)
            assert not option.required or option.has_example, f"{struct.__name__}.{option.name} needs an example"


def test_the_choices_are_the_ones_the_app_cycles_through() -> None:
    from cminbox.tui.inbox_screen import PREVIEW_MODES

    assert set(typing.get_args(config_schema.SortOrder)) == {s.value for s in Sort}
    preview = next(o for o in options(config_schema.UIConfig) if o.name == "preview").type
    assert isinstance(preview, mi.LiteralType) and set(preview.values) == set(PREVIEW_MODES)


def test_descriptions_that_name_things_name_the_current_ones() -> None:
    """The few descriptions that list things declared elsewhere (the default views, the themes
    shipped in themes/) still list them."""
    from cminbox.core.views import DEFAULT_VIEWS

    assert all(v.name in config_docs.doc_of(config_schema.ViewConfig) for v in DEFAULT_VIEWS)
    theme = next(o for o in options(config_schema.UIConfig) if o.name == "theme")
    assert all(path.stem in theme.description for path in (ROOT / "themes").glob("*.toml"))
    assert theme.default == "cminbox-dark"


@pytest.mark.parametrize(
    ("text", "line", "key", "said"),
    [
        ('[ui]\npreview = "left"\n', 2, "ui.preview", '"bottom", "off", "right"'),
        ('[ui]\nsort = "random"\n', 2, "ui.sort", '"newest", "oldest", "priority"'),
        ('[ui]\nview = "0"\n', 2, "ui.view", 'one of "1", "2"'),
        ('[[views]]\nkey = "10"\nname = "x"\n', 2, "views[0].key", 'one of "1", "2"'),
        ('[team]\nme = "' + "x" * 41 + '"\n', 2, "team.me", "a string of at most 40 characters"),
        ('[[channels]]\nname = "Local Box"\ntype = "mastodon"\n', 2, "channels[0].name", "a string matching"),
    ],
)
def test_choices_and_string_bounds_are_refused_with_what_is_allowed(text: str, line: int, key: str, said: str) -> None:
    err = error(text)
    assert (err.line, err.key) == (line, key), str(err)
    assert said in str(err) and "is not allowed here" in str(err), str(err)


def test_a_start_view_must_exist() -> None:
    assert "no saved view has key '7'" in str(error('[ui]\nview = "7"\n'))
    assert config.parse('[ui]\nview = "7"\n\n[[views]]\nkey = "7"\nname = "seven"\n').ui.view == "7"


@pytest.mark.parametrize(("path", "struct"), tables(), ids=lambda v: str(v) if isinstance(v, tuple) else "")
def test_an_unknown_key_in_any_table_lists_the_keys_its_declaration_allows(path: Any, struct: Any) -> None:
    head = ".".join(str(p) for p in path if isinstance(p, str))
    header = f"[[{head}]]" if isinstance(path[-1], int) else f"[{head}]"
    required = [o for o in options(struct) if o.required]
    body = "".join(f"{o.name} = {config_docs.toml_value(o.example)}\n" for o in required)
    first = fields(struct)[0]
    text = f"{header}\n{body}{first}x = 1\n"
    err = error(text)
    dotted = head + ("[0]" if isinstance(path[-1], int) else "")
    assert (err.line, err.key) == (text.count("\n"), f"{dotted}.{first}x"), str(err)
    assert f"Did you mean `{first}`?" in str(err)
    assert f"Allowed keys in {dotted}: {', '.join(fields(struct))}." in str(err)


# ------------------------------------------------------------------ the example file
def test_the_example_parses_back_to_the_declared_defaults() -> None:
    cfg = config.parse(example(), PATH)
    for section in ("team", "ui", "store"):
        struct = type(getattr(cfg, section))
        assert getattr(cfg, section) == struct(), section  # examples of optional keys are commented out
    assert [c.type for c in cfg.channels] == ["mastodon"] and cfg.targets and cfg.document.views
    assert example() == config.EXAMPLE  # the module attribute the tests and docs name


def test_the_example_shows_every_key_and_every_channel_types_keys() -> None:
    text = example()
    keyed = {m.group(1) for m in re.finditer(r"^(?:# )?([a-z_]+) = ", text, re.M)}
    for _, struct in tables():
        if struct is not config_schema.UserConfig:  # the older spelling: not shown
            own = {o.name for o in options(struct) if not isinstance(o.type, mi.StructType | mi.ListType)}
            assert own <= keyed, struct
    assert set(fields(ChannelConfig)) <= keyed
    for name, cls in channel_types().items():
        assert f'type = "{name}"' in text
        if cls.Options is not None:
            assert set(fields(cls.Options)) <= keyed, name


def test_uncommenting_the_examples_of_a_section_still_parses() -> None:
    """The commented examples are values the loader accepts (here: [team] and [keys])."""
    text = example()
    text = text.replace('# me = "alex"', 'me = "alex"').replace("# members =", "members =")
    text = text.replace('# done = "d,D"', 'done = "d,D"')
    cfg = config.parse(text)
    assert cfg.team.me == "alex" and cfg.keys == {"done": "d,D"}


def test_cli_prints_what_the_modules_generate(capsys: pytest.CaptureFixture[str]) -> None:
    for action, expected in (("example", example()), ("docs", docs_table())):
        assert cli.main(["config", action]) == 0
        assert capsys.readouterr().out == expected
    assert cli.main(["config", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()


# ------------------------------------------------------------------ the README
def test_the_readme_key_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(TABLE_START) == 1 and readme.count(TABLE_END) == 1
    between = readme.split(TABLE_START + "\n", 1)[1].split(TABLE_END, 1)[0]
    assert between == docs_table(), "README.md's key table is stale: `python -m tests.test_config_derived` updates it"


def write_readme_table() -> None:
    """Put the generated table between the README's markers (after changing a declaration)."""
    path = ROOT / "README.md"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(TABLE_START + "\n", 1)
    tail = rest.split(TABLE_END, 1)[1]
    path.write_text(head + TABLE_START + "\n" + docs_table() + TABLE_END + tail, encoding="utf-8")


def test_the_readme_action_table_lists_every_action_id() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (?:Move|Triage|Select|People|View|App|Macros|Community) \|.*\| `([a-z_0-9]+)(?: … (view_9))?` \|$",
        readme,
        re.M,
    )
    listed = {row[0] for row in rows} | {row[1] for row in rows if row[1]}
    ids = {spec.id for spec in keymap.ACTIONS}
    assert listed == {i for i in ids if not re.fullmatch(r"view_[2-8]", i)}  # the README folds 1 … 9


# ------------------------------------------------------------------ the JSON Schema
def test_the_schema_is_valid_draft_2020_12() -> None:
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)
    props = s["properties"]
    assert set(props) == set(fields(ConfigFile))
    assert props["channels"]["items"]["properties"]["type"]["enum"] == list(channel_types())
    assert set(props["keys"]["properties"]) == {spec.id for spec in keymap.ACTIONS}
    assert s["$defs"]["UIConfig"]["properties"]["preview"]["default"] == "right"
    assert "seconds between polls" in json.dumps(s)


def test_the_schema_accepts_the_example_and_the_demo_configs() -> None:
    assert schema_errors(example()) == []
    assert schema_errors(demo_config_text("http://127.0.0.1:8080")) == []
    team = demo_config_text("http://127.0.0.1:8080", me="ana", token_command="echo t")
    team += (
        '\n[store]\nbackend = "postgresql"\ndsn = "postgresql://ana@127.0.0.1/cminbox"\npassword_command = "cat p"\n'
    )
    assert schema_errors(team) == []
    config.parse(team)  # and so does the loader


MASTODON = '[[channels]]\nname = "m"\ntype = "mastodon"\nurl = "https://m.example"\n'


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        (MASTODON + 'interval = "30"\n', ("channels", 0, "interval"), "is not of type 'integer'"),
        (MASTODON + "interval = 2\n", ("channels", 0, "interval"), "less than the minimum"),
        (MASTODON + "backfil_pages = 2\n", ("channels", 0), "'backfil_pages' was unexpected"),
        (MASTODON + 'repos = ["a/b"]\n', ("channels", 0), "'repos' was unexpected"),  # github's, not mastodon's
        ('[[channels]]\nname = "m"\ntype = "mastodon"\n', ("channels", 0), "'url' is a required property"),
        ('[[channels]]\nname = "m"\ntype = "myspace"\n', ("channels", 0, "type"), "is not one of"),
        ('[ui]\npreview = "left"\n', ("ui", "preview"), "is not one of"),
        ('[keys]\ndnoe = "x"\n', ("keys",), "'dnoe' was unexpected"),
        (
            '[[escalation.targets]]\nname = "x"\ntype = "pager"\nurl = "https://x"\n',
            ("escalation", "targets", 0, "type"),
            "is not one of",
        ),
        ("colour = 1\n", (), "'colour' was unexpected"),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(text: str, path: tuple[Any, ...], words: str) -> None:
    found = schema_errors(text)
    assert any(p[: len(path)] == path and words in message for p, message in found), found
    with pytest.raises(config.ConfigError):
        config.parse(text)


def test_a_github_channel_needs_no_url_in_the_schema_either() -> None:
    text = '[[channels]]\nname = "gh"\ntype = "github"\nrepos = ["acme/app"]\n'
    assert schema_errors(text) == [] and config.parse(text).channels[0].options.repos == ["acme/app"]


if __name__ == "__main__":
    write_readme_table()
