"""Command-line flags generated from configuration dataclasses: a field's ``metadata=flag(...)`` is its flag.

A field without ``flag`` metadata has no flag (it is derived, or recorded by training). The flag's name is
``--field-name`` unless given; its type comes from the field's annotation (``bool`` fields are switches,
``X | None`` takes an X); its help ends with the default, read from the field or from named presets.
"""
from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLAG = "flag"


@dataclass(frozen=True)
class Flag:
    """How one dataclass field appears on the command line."""

    help: str
    group: str = ""  # the --help section; "" for the top
    name: str | None = None  # default: --field-name
    choices: typing.Sequence[str] | None = None
    metavar: str | None = None
    default_text: str | None = None  # what the help says the default is; None: the field's default
    repeat: bool = False  # may be given several times; the value is the list
    positional: bool = False
    preset: bool = False  # the default comes from a named preset (e.g. per dataset) when the flag is not given


def flag(help: str, **options: Any) -> dict[str, Flag]:
    """``field(metadata=flag("what it does", ...))``: see ``Flag`` for the options."""
    return {FLAG: Flag(help, **options)}


def flag_of(f: dataclasses.Field) -> Flag | None:
    """The flag of a dataclass field, or None when it has none."""
    return f.metadata.get(FLAG)


def flag_name(f: dataclasses.Field) -> str:
    """``--name`` of a field's flag (the field name for a positional)."""
    spec = flag_of(f)
    if spec is not None and spec.positional:
        return f.name
    return (spec.name if spec is not None and spec.name else "--" + f.name.replace("_", "-"))


def flagged_fields(cls: type) -> list[dataclasses.Field]:
    """The fields of dataclass ``cls`` that have a flag, in declaration order."""
    return [f for f in dataclasses.fields(cls) if flag_of(f) is not None]


def _value_type(cls: type, f: dataclasses.Field) -> type:
    hint = typing.get_type_hints(cls)[f.name]
    union = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    args = [a for a in typing.get_args(hint) if a is not type(None)] if union else [hint]
    base = args[0]
    return typing.get_args(base)[0] if typing.get_origin(base) is list else base


def _field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def default_help(f: dataclasses.Field, presets: Mapping[str, Any] | None) -> str:
    """The ``(default: ...)`` text that ends a flag's help ("" when it says none)."""
    spec = flag_of(f)
    if spec.default_text is not None:
        return f" (default: {spec.default_text})" if spec.default_text else ""
    if spec.preset and presets:
        return " (default: " + ", ".join(f"{getattr(p, f.name)} for {name}" for name, p in presets.items()) + ")"
    default = _field_default(f)
    if default is None or isinstance(default, bool) or default == []:
        return ""
    return f" (default: {default})"


def add_flags(parser: argparse.ArgumentParser, cls: type, groups: dict[str, Any],
              presets: Mapping[str, Any] | None = None) -> None:
    """Add a flag for each flagged field of ``cls``; ``groups`` maps a section title to its argument group
    (created on first use, in the order met). The destination of every flag is its field's name."""
    for f in flagged_fields(cls):
        spec = flag_of(f)
        if spec.group and spec.group not in groups:
            groups[spec.group] = parser.add_argument_group(spec.group)
        target = groups[spec.group] if spec.group else parser
        kind = _value_type(cls, f)
        text = spec.help + default_help(f, presets)
        if spec.positional:
            target.add_argument(f.name, metavar=spec.metavar, help=text)
            continue
        options: dict[str, Any] = dict(dest=f.name, help=text)
        if kind is bool:
            options.update(action="store_true")
        else:
            # a repeated flag collects into a fresh list: argparse would append to a default list
            options.update(type=kind, default=None if spec.preset or spec.repeat else _field_default(f))
            if spec.repeat:
                options.update(action="append")
            if spec.choices:  # argparse shows the choices where the metavar would be
                options.update(choices=list(spec.choices))
            else:
                options.update(metavar=spec.metavar or flag_name(f).lstrip("-").replace("-", "_").upper())
        target.add_argument(flag_name(f), **options)


def values_for(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The parsed value of each flagged field of ``cls`` (None for a preset flag that was not given; a repeated
    flag not given takes the field's default)."""
    values = {}
    for f in flagged_fields(cls):
        value = getattr(args, f.name)
        values[f.name] = _field_default(f) if value is None and flag_of(f).repeat and not flag_of(f).preset else value
    return values


def given_flags(parser: argparse.ArgumentParser, argv: list[str] | None) -> set[str]:
    """The destinations (field names) of the flags actually typed on the command line, not their defaults."""
    defaults = {action.dest: action.default for action in parser._actions}
    try:
        for action in parser._actions:
            action.default = argparse.SUPPRESS
        return set(vars(parser.parse_args(argv)))
    finally:
        for action in parser._actions:
            action.default = defaults[action.dest]
