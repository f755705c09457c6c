"""Where a config error is and how to word it: the line that sets a key (tomllib gives no
positions), the dotted key name, and a msgspec validation error turned into a problem a
person can act on, with the allowed range or values of a bounded option, and for an unknown
key the closest allowed one and every key allowed there (read from the declared structs)."""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Iterator
from typing import Any, Protocol

import msgspec
import msgspec.inspect as mi

KeyPath = tuple[str | int, ...]


class Fail(Protocol):
    """Makes the ConfigError for a key path: the file, the line that sets the key, the key."""

    def __call__(self, path: KeyPath, problem: str, hint: str = "", /) -> Exception: ...


def locate_keys(source: str) -> dict[KeyPath, int]:
    """Map key paths such as ("channels", 0, "interval") to the line that sets them.

    This scans table headers and ``key =`` lines; it handles what config files contain
    (tables, arrays of tables, dotted keys).
    """
    where: dict[KeyPath, int] = {}
    for lineno, path, _ in _scan(source):
        where.setdefault(path, lineno)
    return where


def key_on_line(source: str, line: int) -> tuple[KeyPath, str] | None:
    """The key a ``key = value`` line sets, and the value as written: what a TOML syntax error
    on that line is about (the error named only the line: new-user trial of 2026-12-02)."""
    for lineno, path, value in _scan(source):
        if lineno == line and value is not None:
            return path, value
    return None


def _scan(source: str) -> Iterator[tuple[int, KeyPath, str | None]]:
    """Each table header's path (value None) and each ``key = value`` line's, with the value."""
    counters: dict[tuple[str, ...], int] = defaultdict(int)
    current: KeyPath = ()
    for lineno, raw in enumerate(source.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[["):
            parts = tuple(p.strip().strip("\"'") for p in line[2 : line.find("]]")].split("."))
            index = counters[parts]
            counters[parts] += 1
            current = (*parts, index)
            yield lineno, current, None
            yield lineno, parts, None  # the array itself: where `[[ui]]` made a list of a table
        elif line.startswith("["):
            current = tuple(p.strip().strip("\"'") for p in line[1 : line.find("]")].split("."))
            yield lineno, current, None
        elif "=" in line:
            key, value = line.split("=", 1)
            yield lineno, (*current, *(k.strip().strip("\"'") for k in key.strip().split("."))), value.strip()


def line_for(where: dict[KeyPath, int], path: KeyPath) -> int | None:
    while path:
        if path in where:
            return where[path]
        path = path[:-1]
    return None


def dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


_MSGSPEC_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"Object contains unknown field `(?P<field>[^`]+)`")
# msgspec's wording when a value has the right type but breaks a Meta bound or a Literal.
_OUT_OF_BOUNDS = re.compile(
    r"^(Expected `(int|float)` [<>]=? |Expected `str` (of length|matching)|Invalid enum value )"
)


def parse_msgspec_error(err: msgspec.ValidationError) -> tuple[KeyPath, str]:
    text = str(err)
    path: list[str | int] = []
    m = _MSGSPEC_PATH.search(text)
    if m:
        text = text[: m.start()]
        for token in re.findall(r"\.([^.\[]+)|\[(\d+)\]", m.group("path")):
            path.append(token[0] if token[0] else int(token[1]))
    unknown = _UNKNOWN_FIELD.search(text)
    if unknown:
        path.append(unknown.group("field"))
    return tuple(path), text


def hint_unknown(key: str, allowed: list[str], where: str) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    did = f"Did you mean `{close[0]}`? " if close else ""
    return f"{did}Allowed keys in {where}: {', '.join(allowed)}."


def is_internal(t: mi.Type) -> bool:
    """A struct field that is no TOML key (``Meta(extra={"internal": True})``, e.g. the parsed
    channel options)."""
    return isinstance(t, mi.Metadata) and bool((t.extra or {}).get("internal"))


def fields(struct: type[msgspec.Struct]) -> list[str]:
    """The TOML keys a struct declares, in declaration order."""
    info = mi.type_info(struct)
    assert isinstance(info, mi.StructType)
    return [f.name for f in info.fields if not is_internal(f.type)]


def struct_at(struct: type[msgspec.Struct], path: KeyPath) -> type[msgspec.Struct] | None:
    """The struct declared for the table at ``path`` (("escalation", "targets", 0) is a
    TargetConfig), or None where the declaration holds no struct."""
    t, _ = _type_at(struct, path)
    return t.cls if isinstance(t, mi.StructType) else None


def _type_at(struct: type[msgspec.Struct], path: KeyPath) -> tuple[mi.Type | None, str]:
    """The declared type of the option at ``path`` (and its one-line description)."""
    t: mi.Type = mi.type_info(struct)
    description = ""
    for part in path:
        if isinstance(t, mi.Metadata):
            t = t.type
        if isinstance(t, mi.StructType) and isinstance(part, str):
            found = [f.type for f in t.fields if f.name == part]
            if not found:
                return None, ""
            t = found[0]
        elif isinstance(t, mi.ListType) and isinstance(part, int):
            t = t.item_type
        else:
            return None, ""
    if isinstance(t, mi.Metadata):
        description = str((t.extra_json_schema or {}).get("description", ""))
        t = t.type
    return t, description


def allowed(t: mi.Type) -> str:
    """What a bounded type accepts, in words: "an integer from 5 to 86400", "one of "a", "b"."""
    if isinstance(t, mi.LiteralType):
        return "one of " + ", ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in t.values)
    if isinstance(t, mi.StrType):
        if t.pattern is not None:
            return f"a string matching {t.pattern}"
        shortest, longest = t.min_length or 0, t.max_length
        if longest is not None:
            return (
                f"a string of {shortest} to {longest} characters"
                if shortest
                else f"a string of at most {longest} characters"
            )
        if shortest:
            return f"a string of at least {shortest} character{'s' if shortest > 1 else ''}"
        return ""
    if isinstance(t, (mi.IntType, mi.FloatType)):
        kind = "an integer" if isinstance(t, mi.IntType) else "a number"
        low, high = t.ge if t.ge is not None else t.gt, t.le if t.le is not None else t.lt
        if low is not None and high is not None:
            return f"{kind} from {low:g} to {high:g}"
        if low is not None:
            return f"{kind} {'>' if t.ge is None else '≥'} {low:g}"
        if high is not None:
            return f"{kind} {'<' if t.le is None else '≤'} {high:g}"
    return ""


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        data = data[part]
    return data


def explain(err: msgspec.ValidationError, struct: type[msgspec.Struct], data: Any) -> tuple[KeyPath, str, str]:
    """(path, problem, hint) for an error converting ``data`` into ``struct``: a value outside an
    option's bounds says the range allowed; a wrong type says which type, and the range too; an
    unknown key the closest known one and every key allowed in its table."""
    path, text = parse_msgspec_error(err)
    if text.startswith("Object contains unknown field") and path:
        section = struct_at(struct, path[:-1])
        known = fields(section) if section else []
        return (
            path,
            f"unknown key `{path[-1]}`.",
            hint_unknown(str(path[-1]), known, dotted(path[:-1]) or "the top level"),
        )
    t, description = _type_at(struct, path) if path else (None, "")
    accepts = allowed(t) if t is not None else ""
    unit = f": {description.rstrip('.')}" if description else ""  # what the option is, e.g. its unit
    if accepts and _OUT_OF_BOUNDS.match(text):
        value = _value_at(data, path)
        return path, f"{value!r} is not allowed here.", f"`{path[-1]}` must be {accepts}{unit}."
    hint = f"Fix the value's type: `{path[-1]}` must be {accepts}{unit}." if accepts else "Fix the value's type."
    return path, _in_toml_words(text.rstrip(".")) + ".", hint


# msgspec names JSON's types; the file is TOML ("Expected `object`, got `int`" for `ui = 3`:
# new-user trial of 2026-12-01).
_TOML_TYPES = {
    "object": "a table",
    "array": "an array",
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "null": "nothing",
    "datetime": "a date-time",
}
_NAMED_TYPE = re.compile(r"(Expected|got) `([^`]+)`")


def _in_toml_words(text: str) -> str:
    def words(types: str) -> str:
        return " or ".join(_TOML_TYPES.get(t.strip(), f"`{t.strip()}`") for t in types.split("|"))

    return _NAMED_TYPE.sub(lambda m: f"{m.group(1)} {words(m.group(2))}", text)
