"""Typed config values: a :class:`Spec` says what one key holds (type, range, default) and :func:`check_value`
returns the value (numbers given as YAML strings such as ``1e-3`` converted) or raises :class:`InputError` with one
line naming the key. The table of every key is :data:`lift3d.train.config.FIELDS`; this module only knows how to
check one value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lift3d.errors import InputError

_MISSING = object()


@dataclass(frozen=True)
class Spec:
    """What a config key holds.

    Attributes:
        kind: ``int``, ``float`` (any finite number), ``bool``, ``str``, ``choice`` (one of ``choices``), ``list``
            (of ``item``), ``dict`` or ``any``.
        lo, hi: inclusive bounds of a number (None: unbounded).
        above, below: exclusive bounds of a number.
        optional: ``null`` (None) is allowed.
        choices: the allowed values of a ``choice``.
        item: spec of each element of a ``list``.
        length: exact length of a ``list`` (None: at least one element).
        default: the value when the config does not set the key (``_MISSING``: none; registry-built sections take
            their entry's own defaults).
    """

    kind: str
    lo: float | None = None
    hi: float | None = None
    above: float | None = None
    below: float | None = None
    optional: bool = False
    choices: tuple = ()
    item: Spec | None = None
    length: int | None = None
    default: Any = _MISSING

    @property
    def has_default(self) -> bool:
        return self.default is not _MISSING

    def describe(self, plural: bool = False) -> str:
        """``an integer >= 1``, ``a number > 0 and < 1``, ``true or false``... (``plural``: ``integers >= 1``)."""
        if self.kind == "list":
            size = f"{self.length}-element " if self.length else "non-empty "
            what = self.item.describe(plural=True) if self.item and self.item.kind != "any" else "values"
            text = f"a {size}list of {what}"
        else:
            names = {"int": ("an integer", "integers"), "float": ("a number", "numbers"),
                     "str": ("a string", "strings"), "bool": ("true or false", "true or false"),
                     "dict": ("a mapping", "mappings"), "any": ("any value", "values"),
                     "choice": ("one of " + ", ".join(_show(c) for c in self.choices),) * 2}
            text = names[self.kind][plural]
        if self.kind in ("int", "float") and (self.lo, self.above, self.hi, self.below) in ((1, None, None, None),
                                                                                          (None, 0, None, None)):
            positive = "positive integer" + "s" * plural if self.kind == "int" else "positive number" + "s" * plural
            return ("" if plural else "a ") + positive + (" or null" if self.optional else "")
        bounds = [f">= {_show(self.lo)}" if self.lo is not None else "", f"> {_show(self.above)}"
                  if self.above is not None else "", f"<= {_show(self.hi)}" if self.hi is not None else "",
                  f"< {_show(self.below)}" if self.below is not None else ""]
        text = " ".join([text, " and ".join(b for b in bounds if b)]).strip()
        return text + (" or null" if self.optional else "")


def _show(v: Any) -> str:
    return "true" if v is True else "false" if v is False else "null" if v is None else str(v)


def Int(default: Any = _MISSING, lo: int | None = None, hi: int | None = None, optional: bool = False) -> Spec:  # noqa: N802
    """An integer (not a bool, not a float) in ``[lo, hi]``."""
    return Spec("int", lo=lo, hi=hi, optional=optional, default=default)


def Num(default: Any = _MISSING, lo: float | None = None, hi: float | None = None, above: float | None = None,  # noqa: N802
        below: float | None = None, optional: bool = False) -> Spec:
    """A finite number (int or float; a numeric string like ``1e-3`` is converted) within the bounds."""
    return Spec("float", lo=lo, hi=hi, above=above, below=below, optional=optional, default=default)


def Bool(default: Any = _MISSING) -> Spec:  # noqa: N802
    return Spec("bool", default=default)


def Str(default: Any = _MISSING, optional: bool = False) -> Spec:  # noqa: N802
    return Spec("str", optional=optional, default=default)


def OneOf(*choices: Any, default: Any = _MISSING) -> Spec:  # noqa: N802
    return Spec("choice", choices=choices, default=default)


def ListOf(item: Spec, default: Any = _MISSING, length: int | None = None, optional: bool = False) -> Spec:  # noqa: N802
    """A non-empty list (or ``length`` long) of ``item`` values."""
    return Spec("list", item=item, length=length, optional=optional, default=default)


MAX_MODEL_SIZE = 2 ** 20
"""Largest model size (a width, channel count, latent size, number of points): a layer that wide is a mistake
(``latent: 1e12``), refused by the config check instead of an allocation failure."""


def spec_from_default(default: Any, sizes: bool = False) -> Spec:
    """The spec a keyword argument's default implies: ``64`` -> an integer, ``0.5`` -> a number, ``True`` -> a bool,
    ``(64, 48)`` -> a list (``sizes``: of integers), ``None`` or no default -> anything (the entry checks it when
    built). ``sizes``: a model hyper-parameter; its integers are then checked by :func:`check_sizes` too."""
    if isinstance(default, bool):
        return Bool()
    if isinstance(default, int):
        return Int()
    if sizes and isinstance(default, list | tuple) and default and all(
            isinstance(v, int) and not isinstance(v, bool) for v in default):
        return ListOf(Int())
    if isinstance(default, float):
        return Num()
    if isinstance(default, str):
        return Str()
    if isinstance(default, list | tuple):
        return Spec("list", item=Spec("any"), length=None) if default else Spec("any")
    if isinstance(default, dict):
        return Spec("dict")
    return Spec("any")


def check_sizes(key: str, value: Any) -> Any:
    """``value`` of model hyper-parameter ``key`` (its type already checked) if every integer in it (the value, or
    the elements of a list) is a size in ``[1, MAX_MODEL_SIZE]``: model integers are widths, channel counts, latent
    sizes, numbers of blocks or points, so ``latent: 0`` or ``channels: [-16, 16]`` is refused before building."""
    many = isinstance(value, list | tuple)
    ints = [v for v in (value if many else [value]) if isinstance(v, int) and not isinstance(v, bool)]
    if any(not 1 <= v <= MAX_MODEL_SIZE for v in ints):
        what = "a list of positive integers" if many else "a positive integer"
        raise InputError(f"{key} must be {what} (a size, at most {MAX_MODEL_SIZE}), got {value!r}"[:300])
    return value


def check_value(key: str, value: Any, spec: Spec) -> Any:
    """``value`` of config key ``key`` if it meets ``spec`` (numeric strings become numbers); else InputError."""
    if value is None and spec.optional:
        return None
    ok, out = _convert(value, spec)
    if not ok:
        raise InputError(f"{key} must be {spec.describe()}, got {value!r}")
    return out


def _convert(value: Any, spec: Spec) -> tuple[bool, Any]:
    kind = spec.kind
    if kind == "any":
        return True, value
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "str":
        return isinstance(value, str) and value != "", value
    if kind == "dict":
        return isinstance(value, dict), value
    if kind == "choice":
        return any(value is c or (type(value) is type(c) and value == c) for c in spec.choices), value
    if kind == "list":
        if not isinstance(value, list | tuple) or not value or (spec.length and len(value) != spec.length):
            return False, value
        out = []
        for v in value:
            ok, conv = _convert(v, spec.item) if spec.item else (True, v)
            if not ok:
                return False, value
            out.append(conv)
        return True, out
    if isinstance(value, str) and kind == "float":
        try:
            value = float(value)
        except ValueError:
            return False, value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False, value
    if kind == "int" and not isinstance(value, int):
        return False, value
    if not math.isfinite(value):
        return False, value
    inside = ((spec.lo is None or value >= spec.lo) and (spec.hi is None or value <= spec.hi)
              and (spec.above is None or value > spec.above) and (spec.below is None or value < spec.below))
    return inside, value
