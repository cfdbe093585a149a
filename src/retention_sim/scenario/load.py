"""Scenario files: YAML in, validated immutable :class:`Scenario` out, and back.

>>> from retention_sim import load_scenario, shipped_scenario
>>> s = load_scenario(shipped_scenario("retail"), overrides=["population.initial_customers=500"])
>>> s.population.initial_customers
500

Errors in a file become :class:`~retention_sim.kernel.errors.InputError` naming the file,
the dotted path of the field, the value received and what is allowed; unknown keys
suggest the closest valid one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..kernel.atomic import atomic_write_text
from ..kernel.errors import InputError, elide
from ..kernel.files import read_input_text
from ..kernel.model import describe_validation_error
from .root import ScenarioConfig

__all__ = ["Scenario", "load_scenario", "scenario_from_dict", "apply_overrides", "dump_scenario",
           "parse_yaml", "read_yaml", "MAX_YAML_BYTES", "MAX_YAML_DEPTH", "MAX_YAML_VALUES"]

Scenario = ScenarioConfig


#: a scenario or sweep file larger than this is refused (shipped scenarios are ~3 KB)
MAX_YAML_BYTES = 2_000_000
#: deepest nesting of a YAML document, counting aliases (a scenario nests about 6 deep)
MAX_YAML_DEPTH = 40
#: most values a YAML document may expand to through its aliases
MAX_YAML_VALUES = 200_000


class _Refused(yaml.YAMLError):
    """A YAML document refused by a bound or a rule of :class:`_SafeLoader`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader with bounds: nesting depth, alias expansion, duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise _Refused(f"{_at(self.peek_event().start_mark)}: nested more than "
                               f"{MAX_YAML_DEPTH} levels deep; a scenario needs far fewer")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue
            if first is not key_node:
                a, b = first.start_mark, key_node.start_mark
                where = (f"lines {a.line + 1} and {b.line + 1}" if a.line != b.line
                         else f"line {a.line + 1}, columns {a.column + 1} and {b.column + 1}")
                raise _Refused(f"{_at(b)}: key {elide(repr(key), 80)} appears twice in the same "
                               f"mapping ({where}); keep one (the last would silently win)")
        return super().construct_mapping(node, deep=deep)


# YAML 1.1 (PyYAML) reads 1e9 as a string; read it as the number it is (YAML 1.2)
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


def _check_expansion(root: Any) -> None:
    """Refuse a document whose aliases expand it beyond the bounds (a "billion laughs")."""
    sizes: dict[int, tuple[int, int]] = {}

    def walk(node: Any, depth: int) -> tuple[int, int]:
        if depth > MAX_YAML_DEPTH:
            raise _Refused(f"{_at(node.start_mark)}: nested more than {MAX_YAML_DEPTH} levels "
                           "deep once its aliases (*name) are expanded; a scenario needs far fewer")
        known = sizes.get(id(node))
        if known is not None:
            return known
        size, deepest = 1, 0
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        for child in children:
            n, d = walk(child, depth + 1)
            size, deepest = size + n, max(deepest, d + 1)
            if size > MAX_YAML_VALUES:
                raise _Refused(f"{_at(node.start_mark)}: its aliases (*name) expand to more "
                               f"than {MAX_YAML_VALUES:,} values; a scenario needs far fewer")
        sizes[id(node)] = (size, deepest)
        return size, deepest

    walk(root, 1)


def parse_yaml(text: str, source: str | None = None) -> Any:
    """Parse one YAML document safely: plain data only (no Python objects), duplicate keys
    refused naming both lines, nesting depth and alias expansion bounded.

    Raises
    ------
    InputError
        Not valid YAML, a duplicate key or a bound exceeded (line and column given).
    """
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)
        return loader.construct_document(node)
    except _Refused as exc:
        raise InputError(exc.message, source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{_at(mark)}: " if mark else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
        raise InputError(f"{where}not valid YAML ({elide(problem, 200)})", source) from None
    except RecursionError:
        raise InputError(f"nested too deeply (more than {MAX_YAML_DEPTH} levels)", source) from None
    finally:
        loader.dispose()


def read_yaml(path: str | Path, what: str = "a YAML scenario file") -> Any:
    """Read a YAML file safely (see :func:`parse_yaml`); the file must exist, be readable,
    UTF-8, at most :data:`MAX_YAML_BYTES` and not empty."""
    text = read_input_text(path, what, max_bytes=MAX_YAML_BYTES)
    return parse_yaml(text, str(path))


def scenario_from_dict(data: Any, source: str | None = None) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`.

    Raises
    ------
    InputError
        Naming the first invalid field (dotted path), the value and what is allowed, and
        how many more problems there are.
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else type(data).__name__
        raise InputError(f"a scenario must be a YAML mapping of keys to values; got {kind}", source)
    try:
        # a customer file named in the scenario is found next to it
        context = {"base_dir": Path(source).parent} if source else None
        return ScenarioConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise InputError(describe_validation_error(exc, ScenarioConfig, "scenario"),
                         source) from None


_EMPTY = "the file is empty; a scenario needs at least name, horizon_days and population"


def _read_yaml(path: Path) -> Any:
    try:
        data = read_yaml(path)
    except InputError as exc:
        if exc.detail.startswith("is empty"):
            raise InputError(_EMPTY, str(path)) from None
        raise
    if data is None:
        raise InputError(_EMPTY, str(path))
    return data


def _parse_override(text: str) -> tuple[list[str], Any]:
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise InputError("--set expects PATH=VALUE (e.g. service.channels.0.agents=12); "
                         f"got {elide(repr(text))}")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except InputError as exc:
        raise InputError(f"--set {elide(path, 100)}: value {elide(repr(raw))} is not valid "
                         f"YAML ({exc.detail})") from None
    return path.strip().split("."), value


def apply_overrides(data: Mapping[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Return a copy of ``data`` with each ``dotted.path=value`` override applied.

    List items are addressed by index (``population.segments.0.share=0.5``); values are
    parsed as YAML, so ``12`` is an int, ``0.5`` a float and ``{a: 1}`` a mapping.
    """
    import copy

    out: Any = copy.deepcopy(dict(data))
    for text in overrides:
        parts, value = _parse_override(text)
        node = out
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            here = ".".join(parts[: depth + 1])
            if isinstance(node, list):
                if not part.lstrip("-").isdigit() or not -len(node) <= int(part) < len(node):
                    raise InputError(f"--set {elide(here, 100)}: {elide(repr(part), 60)} is not "
                                     f"an index of a list of "
                                     f"{len(node)} items (0 to {len(node) - 1})")
                if last:
                    node[int(part)] = value
                else:
                    node = node[int(part)]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise InputError(f"--set {elide(here, 100)}: {elide('.'.join(parts[:depth]), 100)} "
                                 f"is a value, not a section, so it has no key "
                                 f"{elide(repr(part), 60)}")
    return out


def load_scenario(path: str | Path, overrides: Iterable[str] = ()) -> Scenario:
    """Read, override and validate a scenario YAML file.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    overrides : iterable of str
        ``dotted.path=value`` strings applied before validation (the CLI's ``--set``).
    """
    path = Path(path)
    data = _read_yaml(path)
    if isinstance(data, Mapping):
        try:
            data = apply_overrides(data, overrides)
        except InputError as exc:
            raise exc.with_source(str(path)) from None
    return scenario_from_dict(data, str(path))


def dump_scenario(scenario: Scenario, path: str | Path | None = None) -> str:
    """Write a scenario as YAML (keys in the model's order); returns the text."""
    text = yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True),
                          sort_keys=False, allow_unicode=True)
    if path is not None:
        atomic_write_text(Path(path), text)
    return text
