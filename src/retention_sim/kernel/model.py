"""The base of every configuration model and the constrained number types they use.

Configuration is validated once, at construction, and immutable: every model forbids
unknown keys and is frozen, so a typo in a YAML file is an error and a loaded scenario
cannot change under a running simulation.  Units are part of field names
(``horizon_days``, ``handle_minutes``, ``cost_per_hour``).

Types are strict where a lax reading would be a silent guess: every number must be
finite (``.inf`` and ``.nan`` are refused), a boolean is not a number (``agents: true``
is an error, not one agent), a quoted string is not a number and a number is not a
boolean.  This holds for every model built on :class:`Section`, lever configurations
included.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from .errors import elide

__all__ = ["Section", "Positive", "NonNegative", "Probability", "Effect", "Names",
           "QueuePriority", "scalar_kinds", "REASONS", "resolve_loc", "allowed_numbers",
           "describe_error", "describe_validation_error"]


def scalar_kinds(annotation: Any) -> frozenset[str]:
    """The scalar kinds a field annotation accepts: ``bool``, ``int``, ``float``, ``str``,
    ``none`` and ``other`` (models, containers, anything else).

    >>> sorted(scalar_kinds(Annotated[float, Field(gt=0)] | None))
    ['float', 'none']
    """
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return scalar_kinds(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return frozenset().union(*(scalar_kinds(a) for a in typing.get_args(annotation)))
    if origin is Literal:
        return frozenset(type(v).__name__ if isinstance(v, bool | int | float | str) else "other"
                         for v in typing.get_args(annotation))
    if annotation is type(None) or annotation is None:
        return frozenset({"none"})
    if annotation in (bool, int, float, str):
        return frozenset({annotation.__name__})
    return frozenset({"other"})


def _items(annotation: Any) -> tuple[Any, ...] | None:
    """Item annotations of a tuple field (``(X, Ellipsis)`` for ``tuple[X, ...]``)."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _items(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        for arg in typing.get_args(annotation):
            found = _items(arg)
            if found is not None:
                return found
        return None
    if origin in (tuple, list):
        return typing.get_args(annotation)
    return None


#: why a value is the wrong kind of scalar, by reason code
REASONS = {"boolean": "a number, not a boolean (true/false)",
           "string": "a number, not a quoted string",
           "number": "true or false, not a number"}


def _mismatch(kinds: frozenset[str], value: object) -> str | None:
    """Reason code (a key of :data:`REASONS`) why ``value`` is the wrong kind of scalar
    for a field accepting ``kinds``, or None."""
    if "other" in kinds:
        return None
    numeric = kinds & {"int", "float"}
    if isinstance(value, bool):
        if numeric and "bool" not in kinds:
            return "boolean"
    elif isinstance(value, int | float):
        if "bool" in kinds and kinds <= {"bool", "none"}:
            return "number"
    elif isinstance(value, str):
        if numeric and "str" not in kinds:
            return "string"
    return None


#: (model class, field name) -> (scalar kinds, item annotations), computed once
_FIELD_KINDS: dict[tuple[type, str],
                   tuple[frozenset[str], tuple[frozenset[str] | None, ...] | None]] = {}


class Section(BaseModel):
    """A frozen configuration model that forbids unknown keys, with strict scalar types."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True,
                              allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _strict_scalars(cls, data: Any) -> Any:
        """Refuse a boolean or a string where a number belongs and a number for a boolean.

        The error (type ``strict_type``) carries the field's name in its context, since
        it is raised for the model as a whole.
        """
        if not isinstance(data, dict):
            return data
        for name, value in data.items():
            field = cls.model_fields.get(name) if isinstance(name, str) else None
            if field is None:
                continue
            key = (cls, name)
            if key not in _FIELD_KINDS:
                items = _items(field.annotation)
                _FIELD_KINDS[key] = (scalar_kinds(field.annotation),
                                     None if not items else tuple(
                                         scalar_kinds(a) if a is not Ellipsis else None
                                         for a in items))
            kinds, items = _FIELD_KINDS[key]
            where, reason, got = [name], _mismatch(kinds, value), value
            if reason is None and items and isinstance(value, list | tuple):
                for i, item in enumerate(value):
                    item_kinds = items[0] if len(items) == 2 and items[1] is None else (
                        items[i] if i < len(items) else None)
                    if item_kinds is not None and (reason := _mismatch(item_kinds, item)):
                        where, got = [name, i], item
                        break
            if reason is not None:
                raise PydanticCustomError(
                    "strict_type", "{field} must be {problem}",
                    {"field": ".".join(map(str, where)), "loc": tuple(where),
                     "problem": REASONS[reason], "reason": reason, "value": got})
        return data


Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]
#: a log-hazard effect (docs/model.md §1.2); positive values raise the dropout hazard
Effect = Annotated[float, Field(ge=-10, le=10)]
#: names of segments (or other items) a setting applies to; empty means all
Names = tuple[Annotated[str, Field(min_length=1)], ...]
#: support priority (lower is served first; ordinary customers have 1)
QueuePriority = Annotated[int, Field(ge=-10, le=10)]


# -- error messages ------------------------------------------------------------------------
#: pydantic error types about a number's kind or range (the message gives the allowed range)
NUMBER_ERRORS = frozenset({
    "finite_number", "greater_than", "greater_than_equal", "less_than", "less_than_equal",
    "int_from_float", "int_parsing", "int_parsing_size", "float_parsing", "int_type",
    "float_type", "strict_type"})


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """(bare annotation, constraint metadata) of ``Annotated[...]`` / ``X | None``."""
    meta: list[Any] = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            args = typing.get_args(annotation)
            for extra in args[1:]:
                meta.extend(getattr(extra, "metadata", None) or [extra])
            annotation = args[0]
        elif (origin is Union or origin is types.UnionType) and type(None) in typing.get_args(
                annotation) and len(typing.get_args(annotation)) == 2:
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation, meta


def _members(annotation: Any) -> list[type[BaseModel]]:
    """The models a (union) annotation may hold."""
    bare, _ = _unwrap(annotation)
    if isinstance(bare, type) and issubclass(bare, BaseModel):
        return [bare]
    if typing.get_origin(bare) in (Union, types.UnionType):
        return [m for a in typing.get_args(bare) for m in _members(a)]
    return []


def resolve_loc(root: type[BaseModel], loc: tuple[Any, ...]
                ) -> tuple[tuple[Any, ...], Any, list[Any], type[BaseModel] | None]:
    """Follow a pydantic error location from ``root``.

    Returns the location without discriminator tags (``dropout.bg.a`` → ``dropout.a``),
    the annotation and constraints found there (None when unknown) and the model that
    holds the last part (for the list of allowed keys).
    """
    clean: list[Any] = []
    annotation: Any = root
    meta: list[Any] = []
    parent: type[BaseModel] | None = None
    for part in loc:
        bare, _ = _unwrap(annotation)
        models = _members(annotation)
        if isinstance(part, int):
            items = _items(bare)
            annotation, meta = (_unwrap(items[0])[0], _unwrap(items[0])[1]) if items else (None, [])
            clean.append(part)
            continue
        if len(models) > 1:  # a discriminated union: the tag names the member
            tagged = [m for m in models if any(
                typing.get_origin(f.annotation) is Literal and part in typing.get_args(f.annotation)
                for f in m.model_fields.values())]
            if tagged:
                annotation, meta = tagged[0], []
                continue
        model = models[0] if models else None
        parent = model
        field = model.model_fields.get(str(part)) if model is not None else None
        if field is None:
            if typing.get_origin(bare) is dict:
                annotation, meta = _unwrap(typing.get_args(bare)[1])
            else:
                annotation, meta = None, []
        else:
            annotation, meta = field.annotation, list(field.metadata)
        clean.append(part)
    return tuple(clean), annotation, meta, parent


def allowed_numbers(annotation: Any, meta: list[Any]) -> str | None:
    """``"a whole number in [1, 100000]"`` for a numeric field (None for other fields)."""
    if annotation is None:
        return None
    bare, more = _unwrap(annotation)
    kinds = scalar_kinds(bare)
    if "int" in kinds and "float" not in kinds:
        kind = "a whole number"
    elif kinds & {"int", "float"}:
        kind = "a finite number"
    else:
        return None
    low = high = None
    low_open = high_open = False
    for m in [*meta, *more]:
        for attr, is_low, is_open in (("gt", True, True), ("ge", True, False),
                                      ("lt", False, True), ("le", False, False)):
            value = getattr(m, attr, None)
            if value is not None:
                if is_low:
                    low, low_open = value, is_open
                else:
                    high, high_open = value, is_open
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    return (f"{kind} in {'(' if low_open or low is None else '['}{lo}, "
            f"{hi}{')' if high_open or high is None else ']'}")


def describe_error(err: Mapping[str, Any], root: type[BaseModel], root_label: str = "") -> str:
    """One pydantic error as a sentence naming the dotted field, the value and what is
    allowed (values are elided to about 200 characters)."""
    loc = tuple(err["loc"])
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    reason = None
    if kind == "strict_type":
        loc = loc + tuple(ctx.get("loc", ()))
        value, reason = ctx.get("value"), ctx.get("problem")
    clean, annotation, meta, parent = resolve_loc(root, loc)
    path = ".".join(str(p) for p in clean)
    shown = elide(repr(value))
    if kind == "extra_forbidden":
        allowed = sorted(parent.model_fields) if parent else []
        key = str(clean[-1]) if clean else ""
        close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else "."
        return (f"{path}: unknown key {elide(repr(key), 60)}{hint} Allowed keys here: "
                f"{', '.join(allowed)}.")
    if kind == "missing":
        return f"{path}: required field is missing."
    if kind == "union_tag_invalid":
        return (f"{path}.{ctx.get('discriminator', 'model').strip(chr(39))} must be one of "
                f"{ctx.get('expected_tags', '')}. Got {elide(repr(ctx.get('tag')))}.")
    if kind == "union_tag_not_found":
        return f"{path}: needs a {ctx.get('discriminator', 'model')} key."
    if kind in NUMBER_ERRORS:
        allowed = allowed_numbers(annotation, meta)
        if reason is not None:
            what = allowed if allowed and reason.startswith("a number") else reason
            why = "; " + reason.replace("a number, not ", "not ") if what != reason else ""
            return f"{path} must be {what}{why}. Got {shown}."
        if allowed:
            return f"{path} must be {allowed}. Got {shown}."
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        return f"{path or root_label}: {elide(msg[len('Value error, '):], 400)}."
    msg = re.sub(r"^(Input|String|List|Tuple|Dictionary|Value) should", "must", msg)
    return f"{path or root_label} {elide(msg, 300)}. Got {shown}."


def describe_validation_error(exc: ValidationError, root: type[BaseModel],
                              root_label: str = "") -> str:
    """The first problem of ``exc`` as one sentence, and how many more there are."""
    errors = exc.errors(include_url=False)
    failing = [tuple(e["loc"]) for e in errors]
    # a list whose items failed is also reported "too short"; keep only the items' errors
    errors = [e for e in errors if not (e["type"] == "too_short" and any(
        loc[: len(e["loc"])] == tuple(e["loc"]) and len(loc) > len(e["loc"])
        for loc in failing))] or errors
    first = describe_error(errors[0], root, root_label)
    more = len(errors) - 1
    return first + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else "")
