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

import difflib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..kernel.atomic import atomic_write_text
from ..kernel.errors import InputError
from .population import BGDropout, ParetoDropout, SBGDropout
from .root import ScenarioConfig

__all__ = ["Scenario", "load_scenario", "scenario_from_dict", "apply_overrides", "dump_scenario"]

Scenario = ScenarioConfig


def _dotted(loc: Iterable[Any]) -> str:
    return ".".join(str(part) for part in loc)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model class that holds the field at ``loc`` (for key suggestions)."""
    model: Any = ScenarioConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            # discriminated-union tag names appear in loc ("sbg", "bg", ...)
            continue
        model = _inner_model(field.annotation, part)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any, _part: Any) -> Any:
    from typing import get_args, get_origin

    stack = [annotation]
    while stack:
        ann = stack.pop()
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            return ann
        if get_origin(ann) is not None or get_args(ann):
            stack.extend(get_args(ann))
    return None


def _union_member(loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], type[BaseModel] | None]:
    """Strip discriminator tags (e.g. ``dropout.sbg.alpha`` → ``dropout.alpha``)."""
    tags = {"sbg": SBGDropout, "bg": BGDropout, "pareto": ParetoDropout}
    clean: list[Any] = []
    member = None
    for i, part in enumerate(loc):
        if part in tags and i > 0 and loc[i - 1] == "dropout":
            member = tags[part]
            continue
        clean.append(part)
    return tuple(clean), member


def _describe(err: Mapping[str, Any]) -> str:
    loc, member = _union_member(tuple(err["loc"]))
    path = _dotted(loc)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        parent = member or _model_at(loc[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        key = str(loc[-1])
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{path}: unknown key {key!r}{hint} Allowed keys here: {', '.join(allowed)}."
    if kind == "missing":
        return f"{path}: required field is missing."
    if kind == "union_tag_invalid":
        expected = err.get("ctx", {}).get("expected_tags", "")
        return f"{path}.model must be one of {expected}. Got {err['ctx'].get('tag')!r}."
    if kind == "union_tag_not_found":
        return f"{path}: needs a 'model' key (one of 'sbg', 'bg', 'pareto')."
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return f"{path or 'scenario'}: {msg[len('Value error, '):]}."
    msg = re.sub(r"^(Input|String|List|Tuple|Dictionary|Value) should", "must", msg)
    return f"{path} {msg}. Got {value!r}."


def scenario_from_dict(data: Any, source: str | None = None) -> Scenario:
    """Validate a plain mapping into a :class:`Scenario`.

    Raises
    ------
    InputError
        Naming every invalid field (dotted path), the value and what is allowed.
    """
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else type(data).__name__
        raise InputError(f"a scenario must be a YAML mapping of keys to values; got {kind}", source)
    try:
        # a customer file named in the scenario is found next to it
        context = {"base_dir": Path(source).parent} if source else None
        return ScenarioConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        failing = [tuple(e["loc"]) for e in errors]
        # a list whose items failed is also reported "too short"; keep only the items' errors
        errors = [e for e in errors if not (e["type"] == "too_short" and any(
            loc[: len(e["loc"])] == tuple(e["loc"]) and len(loc) > len(e["loc"])
            for loc in failing))]
        raise InputError(" ".join(_describe(e) for e in errors), source) from None


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("file not found", str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a YAML file", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot be read ({exc.__class__.__name__}: {exc})", str(path)) from None
    empty = InputError("the file is empty; a scenario needs at least name, horizon_days and "
                       "population", str(path))
    if not text.strip():
        raise empty
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{where}not valid YAML ({problem})", str(path)) from None
    if data is None:
        raise empty
    return data


def _parse_override(text: str) -> tuple[list[str], Any]:
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise InputError(f"--set expects PATH=VALUE (e.g. service.channels.0.agents=12); got {text!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        raise InputError(f"--set {path}: value {raw!r} is not valid YAML") from None
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
                    raise InputError(f"--set {here}: {part!r} is not an index of a list of "
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
                raise InputError(f"--set {here}: {'.'.join(parts[:depth])} is a value, "
                                 "not a section, so it has no key {part!r}")
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
