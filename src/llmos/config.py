"""Typed configuration: dataclasses, presets, and `key=value` overrides.

Every layer describes its settings as a dataclass. This module gives them the
few operations a command line and a run folder need:

    cfg = override(PRESETS["char"], ["model.n_layers=6", "train.lr=3e-4"])
    save_config(cfg, run_dir / "config.json")
    cfg = load_config(TrainConfig, run_dir / "config.json")

Values are parsed by the field's declared type, so `n_layers=six` is an error
that names the field and the type it wanted.
"""
from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, Callable, Literal, TypeVar, get_args, get_origin

T = TypeVar("T")


class ConfigError(ValueError):
    """A configuration value or key is wrong; the message says which and why."""


def _unwrap_optional(tp: Any) -> tuple[Any, bool]:
    origin = get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def parse_value(text: str, tp: Any, name: str = "value") -> Any:
    """Parse `text` as type `tp` (int, float, bool, str, Path, Literal, Optional, list, dict)."""
    tp, optional = _unwrap_optional(tp)
    if optional and text.lower() in ("none", "null"):
        return None
    origin = get_origin(tp)
    try:
        if tp is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            return int(float(text)) if "e" in text.lower() else int(text)
        if tp is float:
            return float(text)
        if tp is str or tp is Any:
            return text
        if tp is Path:
            return Path(text)
        if origin is Literal:
            choices = get_args(tp)
            for c in choices:
                if str(c) == text:
                    return c
            raise ConfigError(f"{name}: {text!r} is not one of {list(choices)}")
        if origin in (list, tuple) or tp in (list, tuple):
            (item,) = get_args(tp)[:1] or (str,)
            items = json.loads(text) if text.startswith("[") else [t for t in text.split(",") if t]
            return [parse_value(str(i), item, name) for i in items]
        if origin is dict or tp is dict:
            return json.loads(text)
    except ConfigError:
        raise
    except (ValueError, json.JSONDecodeError):
        raise ConfigError(f"{name}: cannot read {text!r} as {getattr(tp, '__name__', tp)}") from None
    raise ConfigError(f"{name}: unsupported field type {tp}")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def override(cfg: T, items: list[str] | dict[str, Any]) -> T:
    """Return a copy of dataclass `cfg` with dotted `key=value` overrides applied.

    >>> override(cfg, ["model.n_layers=6"])  # nested dataclass fields use dots

    Each dataclass is rebuilt once with all of its changes, so a config's own
    checks (run when it is built) see the final values together: lowering
    `max_len` and `max_prompt_len` in one command is fine whatever their order.
    """
    pairs = items.items() if isinstance(items, dict) else [_split(i) for i in items]
    changes: dict[str, Any] = {}
    for key, value in pairs:
        changes[key] = value
    return _apply(cfg, {tuple(k.split(".")): v for k, v in changes.items()}, "")


def _split(item: str) -> tuple[str, str]:
    if "=" not in item:
        raise ConfigError(f"override {item!r} must look like key=value")
    key, value = item.split("=", 1)
    return key.strip().replace("-", "_"), value.strip()


def _apply(cfg: Any, changes: dict[tuple[str, ...], Any], prefix: str) -> Any:
    """`cfg` rebuilt with `changes` (paths relative to it); errors name the full dotted key."""
    if not dataclasses.is_dataclass(cfg):
        full = prefix.rstrip(".")
        raise ConfigError(f"{full}: {type(cfg).__name__} has no fields")
    types_ = _field_types(type(cfg))
    direct: dict[str, Any] = {}
    nested: dict[str, dict[tuple[str, ...], Any]] = {}
    for path, value in changes.items():
        head, full = path[0], prefix + ".".join(path)
        if head not in types_:
            known = ", ".join(sorted(types_))
            raise ConfigError(f"unknown setting {full!r}; {type(cfg).__name__} has: {known}")
        if len(path) > 1:
            nested.setdefault(head, {})[path[1:]] = value
        else:
            direct[head] = parse_value(value, types_[head], full) if isinstance(value, str) else value
    for head, sub in nested.items():
        direct[head] = _apply(direct.get(head, getattr(cfg, head)), sub, f"{prefix}{head}.")
    return built(lambda: dataclasses.replace(cfg, **direct), prefix)


def built(make: Callable[[], T], prefix: str = "") -> T:
    """`make()`, with a config's own ValueError re-raised as a ConfigError whose key carries `prefix`.

    Configs check themselves in `__post_init__` and name the field (`eval_every must
    be >= 1`); nested inside another config the field gets its dotted name
    (`train.eval_every must be >= 1`).
    """
    try:
        return make()
    except ValueError as e:          # ConfigError included
        if isinstance(e, ConfigError) and not prefix:
            raise
        raise ConfigError(prefix + str(e)) from None


def require(ok: bool, field: str, must: str, value: Any) -> None:
    """Raise ConfigError "FIELD must be MUST, got VALUE" unless `ok` (for `__post_init__` checks)."""
    if not ok:
        raise ConfigError(f"{field} must be {must}, got {value!r}")


def require_at_least(cfg: Any, minimum: float, *names: str) -> None:
    """Each named field of `cfg` (None allowed: "use the default") is at least `minimum`."""
    for name in names:
        value = getattr(cfg, name)
        require(value is None or value >= minimum, name, f">= {minimum}", value)


def require_choice(cfg: Any, name: str) -> None:
    """A Literal-typed field holds one of its choices (dataclasses do not check types)."""
    tp, _ = _unwrap_optional(_field_types(type(cfg))[name])
    choices = get_args(tp)
    value = getattr(cfg, name)
    require(value in choices, name, f"one of {list(choices)}", value)


def to_dict(cfg: Any) -> dict[str, Any]:
    """A JSON-ready dict of a (nested) dataclass."""
    def conv(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, Path):
            return str(v)
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if isinstance(v, dict):
            return {k: conv(x) for k, x in v.items()}
        return v
    return conv(cfg)


def from_dict(cls: type[T], data: dict[str, Any], *, strict: bool = True) -> T:
    """Build dataclass `cls` from a dict, recursing into nested dataclass fields."""
    types_ = _field_types(cls)
    unknown = set(data) - set(types_)
    if unknown and strict:
        raise ConfigError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
    kwargs = {}
    for name, tp in types_.items():
        if name not in data:
            continue
        inner, _ = _unwrap_optional(tp)
        value = data[name]
        if dataclasses.is_dataclass(inner) and isinstance(value, dict):
            value = from_dict(inner, value, strict=strict)
        elif inner is Path and value is not None:
            value = Path(value)
        elif get_origin(inner) is tuple and isinstance(value, list):
            value = tuple(value)
        kwargs[name] = value
    return cls(**kwargs)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_config(cfg: Any, path: str | Path) -> None:
    atomic_write_text(path, json.dumps(to_dict(cfg), indent=2) + "\n")


def parse_json(text: str, source: str, error: type[Exception] = ConfigError) -> Any:
    """`json.loads(text)`; text that is not JSON raises `error` naming `source` (a file name)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise error(f"{source} is not valid JSON ({e}); the file is corrupt") from None


def read_json(path: str | Path, error: type[Exception] = ConfigError) -> Any:
    """The JSON in the file at `path`; a missing or corrupt file raises `error` naming it.

    `path` may also be an importlib.resources Traversable (a file inside the package).
    """
    source = path if hasattr(path, "read_text") else Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"no file at {path}") from None
    return parse_json(text, str(path), error)


def load_config(cls: type[T], path: str | Path) -> T:
    """The dataclass `cls` saved at `path` by `save_config`."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"no config file at {path}")
    data = read_json(path)
    return built(lambda: from_dict(cls, data))
