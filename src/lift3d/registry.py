"""One registry style for everything built by name: models, encoders, fusions, losses, optimisers, schedules,
tasks (representations), dataset readers and file formats.

A :class:`Registry` maps a name to a factory (a class or a function). Entries register themselves where they are
defined (``@MODELS.register("voxel")``), so adding a model, a loss or a representation never means editing a
table elsewhere. ``build(name, **kwargs)`` turns an unknown name or bad keyword arguments into the registry's
project error (one line a user can act on), listing what is available.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from lift3d.errors import Lift3DError, ModelError

T = TypeVar("T")


class Registry(Generic[T]):
    """Name -> factory table of one kind of component.

    Args:
        kind: what the entries are, for messages (``"model"``, ``"loss"`` ...).
        error: the project exception raised for unknown names and bad arguments.
        modules: modules imported on first lookup, so entries defined there are registered even when the caller
            has not imported them (keeps ``import lift3d`` light: torch-heavy modules load on demand).
    """

    def __init__(self, kind: str, error: type[Lift3DError] = ModelError, modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.error = error
        self._modules = list(modules)
        self._table: dict[str, T] = {}

    def register(self, name: str, obj: T | None = None) -> Any:
        """``REG.register("name", obj)``, or as a decorator ``@REG.register("name")``. Names are unique."""
        if obj is not None:
            self._add(name, obj)
            return obj

        def deco(o: T) -> T:
            self._add(name, o)
            return o

        return deco

    def _add(self, name: str, obj: T) -> None:
        if name in self._table and self._table[name] is not obj:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._table[name] = obj

    def _load(self) -> None:
        while self._modules:
            importlib.import_module(self._modules.pop(0))

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        self._load()
        return list(self._table)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def get(self, name: str | None) -> T:
        """The factory registered as ``name``; an unknown name raises the registry's error listing the names."""
        self._load()
        if name not in self._table:
            raise self.error(f"unknown {self.kind} {name!r}; available: {', '.join(self._table) or '(none)'}")
        return self._table[name]

    def build(self, name: str | None, **kwargs: Any) -> Any:
        """``get(name)(**kwargs)``; ``TypeError``/``ValueError`` from bad arguments -> the registry's error."""
        factory: Callable[..., Any] = self.get(name)  # type: ignore[assignment]
        try:
            return factory(**kwargs)
        except (TypeError, ValueError) as exc:
            raise self.error(f"bad arguments for {self.kind} {name!r}: {exc}") from exc

    def build_config(self, config: dict | None, default: str | None = None, **extra: Any) -> Any:
        """Build from a ``{"name": ..., **kwargs}`` dict (``name`` defaults to ``default``); ``extra`` keyword
        arguments are supplied by the caller (for example an optimiser's parameters), not by the config."""
        cfg = dict(config or {})
        return self.build(cfg.pop("name", default), **cfg, **extra)

    def parameters(self, name: str | None, supplied: tuple[str, ...] = ()) -> dict[str, Any] | None:
        """The config keys ``name``'s factory takes -> their defaults (``inspect.Parameter.empty`` where there is
        none), leaving out ``supplied`` (parameters the caller passes itself); None when it takes ``**kwargs``."""
        params = inspect.signature(self.get(name)).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
            return None
        return {k: p.default for k, p in params.items() if k not in supplied and k != "self"
                and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}

    def check(self, name: str | None, kwargs: dict, section: str, supplied: tuple[str, ...] = ()) -> None:
        """Refuse, without building anything, a config section whose keys ``name``'s factory does not take.

        ``section`` names the config section in the message (``"optim"``); ``supplied`` are parameters the caller
        passes itself, which a config may not set. A factory taking ``**kwargs`` accepts any key.
        """
        if name not in self:
            raise self.error(f"{section}.name: unknown {self.kind} {name!r}; available: {', '.join(self._table)}")
        allowed = self.parameters(name, supplied)
        if allowed is None:
            return
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            keys = ", ".join(f"{section}.{k}" for k in unknown)
            raise self.error(f"unknown config key(s) {keys} for {self.kind} {name!r}; it takes: {', '.join(allowed)}")
