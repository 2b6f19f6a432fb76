"""The env registry, modelled on Gymnasium's: ``EnvSpec``, ``register``, ``make``, ``spec``, ``pprint_registry``.

Ids have the form ``[namespace/]Name-vN``. Entry points are callables or lazy ``"module:attr"`` strings. Third-party
packages add envs through the ``convenv.envs`` entry-point group: each entry point names a function that is called
(with no arguments) to register its envs, on the first lookup. The registry is an object with a default instance,
so tests can ``snapshot()`` and ``restore()`` it.
"""

from __future__ import annotations

import copy
import difflib
import importlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from convenv.error import DeprecatedEnv, NameNotFound, RegistrationError, VersionNotFound

ENTRY_POINT_GROUP = "convenv.envs"
ID_RE = re.compile(r"^(?:(?P<namespace>[\w:.-]+)/)?(?P<name>[\w:.-]+?)(?:-v(?P<version>\d+))?$")


def parse_env_id(env_id: str) -> tuple[str | None, str, int | None]:
    """Split ``"ns/Name-v3"`` into ``("ns", "Name", 3)``."""
    match = ID_RE.fullmatch(env_id) if isinstance(env_id, str) else None
    if match is None:
        raise RegistrationError(
            f"expected an env id of the form '[namespace/]Name-vN', got {env_id!r}; e.g. 'MathTutor-v0'"
        )
    version = match.group("version")
    return match.group("namespace"), match.group("name"), None if version is None else int(version)


def _join(namespace: str | None, name: str, version: int | None) -> str:
    return (f"{namespace}/" if namespace else "") + name + ("" if version is None else f"-v{version}")


@dataclass
class EnvSpec:
    """How to build one env.

    Attributes:
        id: ``[namespace/]Name-vN``.
        entry_point: a callable returning the env, or ``"module:attr"`` naming one.
        kwargs: default keyword arguments, overridden by those given to ``make``.
        description: one line shown by ``convenv list`` and ``pprint_registry``.
        nondeterministic: True if the same seed may not give the same episode.

    """

    id: str
    entry_point: Callable[..., Any] | str
    kwargs: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    nondeterministic: bool = False

    def __post_init__(self) -> None:
        self.namespace, self.name, self.version = parse_env_id(self.id)

    def make(self, **kwargs: Any) -> Any:
        """Build the env with this spec's kwargs updated by ``kwargs``."""
        creator = load_entry_point(self.entry_point)
        env = creator(**{**self.kwargs, **kwargs})
        env.spec = self
        return env


def load_entry_point(entry_point: Callable[..., Any] | str) -> Callable[..., Any]:
    """Resolve ``"package.module:attr"`` to the object it names."""
    if callable(entry_point):
        return entry_point
    module_name, _, attr = str(entry_point).partition(":")
    if not attr:
        raise RegistrationError(
            f"expected an entry point 'module:attr', got {entry_point!r}; e.g. 'convenv.envs.math_tutor:make_env'"
        )
    return getattr(importlib.import_module(module_name), attr)


class Registry:
    """A mutable collection of :class:`EnvSpec` keyed by id."""

    def __init__(self) -> None:
        self.specs: dict[str, EnvSpec] = {}
        self._plugins_loaded = False

    def register(self, id: str, entry_point: Callable[..., Any] | str, **spec_fields: Any) -> EnvSpec:
        """Add a spec; registering an existing id raises (``override=True`` replaces it)."""
        override = spec_fields.pop("override", False)
        new = EnvSpec(id=id, entry_point=entry_point, **spec_fields)
        if new.id in self.specs and not override:
            raise RegistrationError(
                f"expected a new env id, got {id!r} which is already registered; pick another version "
                "or pass override=True"
            )
        self.specs[new.id] = new
        return new

    def spec(self, env_id: str) -> EnvSpec:
        """The spec of ``env_id``, with "did you mean" and version hints when it is missing."""
        self.load_plugins()
        if env_id in self.specs:
            return self.specs[env_id]
        namespace, name, version = parse_env_id(env_id)
        versions = sorted(
            s.version
            for s in self.specs.values()
            if (s.namespace, s.name) == (namespace, name) and s.version is not None
        )
        if versions:
            newest = _join(namespace, name, versions[-1])
            if version is None:
                raise VersionNotFound(
                    f"expected an env id with a version, got {env_id!r}; use {newest!r} (the newest)"
                )
            if version < versions[-1]:
                raise DeprecatedEnv(
                    f"expected a registered version, got {env_id!r}, which is older than {newest!r}; use {newest!r}"
                )
            raise VersionNotFound(
                f"expected one of the versions {[_join(namespace, name, v) for v in versions]}, got {env_id!r}; "
                f"use {newest!r}"
            )
        close = difflib.get_close_matches(env_id, list(self.specs), n=3, cutoff=0.5)
        hint = f"did you mean {' or '.join(repr(c) for c in close)}?" if close else "see convenv.pprint_registry()"
        raise NameNotFound(f"expected a registered env id, got {env_id!r}; {hint}")

    def make(self, env_id: str | EnvSpec, **kwargs: Any) -> Any:
        """Build a registered env; ``kwargs`` override the spec's defaults."""
        spec = env_id if isinstance(env_id, EnvSpec) else self.spec(env_id)
        return spec.make(**kwargs)

    def load_plugins(self) -> None:
        """Call every ``convenv.envs`` entry point once (third-party registrations)."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                register_fn = entry_point.load()
            except Exception as err:  # a broken plugin must not break convenv itself
                import warnings

                warnings.warn(f"convenv plugin {entry_point.name!r} failed to load: {err}", stacklevel=2)
                continue
            register_fn()

    def __iter__(self) -> Iterator[EnvSpec]:
        self.load_plugins()
        return iter(sorted(self.specs.values(), key=lambda s: s.id))

    def pformat(self) -> str:
        """One line per env: id and description."""
        specs = list(self)
        width = max((len(s.id) for s in specs), default=0)
        return "\n".join(f"{s.id:<{width}}  {s.description}" for s in specs)

    def snapshot(self) -> dict[str, EnvSpec]:
        """A copy of the specs, for :meth:`restore`."""
        return copy.copy(self.specs)

    def restore(self, snapshot: dict[str, EnvSpec]) -> None:
        """Put back the specs saved by :meth:`snapshot`."""
        self.specs = copy.copy(snapshot)


registry = Registry()


def register(id: str, entry_point: Callable[..., Any] | str, **spec_fields: Any) -> EnvSpec:
    """Register an env in the default registry (see :class:`EnvSpec` for the fields)."""
    return registry.register(id, entry_point, **spec_fields)


def make(env_id: str | EnvSpec, **kwargs: Any) -> Any:
    """Build a registered env, e.g. ``convenv.make("MathTutor-v0", max_turns=10, gamma=0.7)``."""
    return registry.make(env_id, **kwargs)


def spec(env_id: str) -> EnvSpec:
    """The :class:`EnvSpec` of a registered id."""
    return registry.spec(env_id)


def pprint_registry() -> None:
    """Print every registered env with its one-line description."""
    print(registry.pformat())
