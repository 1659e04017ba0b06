"""Reading configuration: the only module that reads YAML (layer 1).

Each stage owns its config model (``synth.WorldConfig``, ``features.FeatureConfig``, ...); this
module loads files into any such model with errors that name the file, the key and what is
allowed. The composed :class:`riskmodel.experiment.ExperimentConfig` sits at the top layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from riskmodel._base import StrictModel

M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config file that cannot be used; the message names the file and the faulty keys."""


def _describe(err: dict[str, Any], prefix: tuple[str, ...] = ()) -> str:
    loc = ".".join(str(p) for p in (*prefix, *err["loc"])) or "(top level)"
    kind = err["type"]
    if kind == "extra_forbidden":
        return f"  - {loc}: unknown key (check the spelling; allowed keys are the model's fields)"
    if kind == "missing":
        return f"  - {loc}: required key is missing"
    got = err.get("input")
    got_s = repr(got) if not isinstance(got, dict | list) else type(got).__name__
    return f"  - {loc}: {err['msg']} (got {got_s})"


def validate_mapping(data: Any, model: type[M], *, source: str = "<config>", key: str = "") -> M:
    """Validate already-parsed data into ``model``, with a readable error naming ``source``.

    ``key``: where ``data`` sits inside ``source`` (``config``), so errors name the full path.
    """
    prefix = tuple(key.split(".")) if key else ()
    if data is None:
        raise ConfigError(
            f"{source}: the file is empty; expected a mapping of {model.__name__} keys"
        )
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: expected a mapping at the top level, got {type(data).__name__}"
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = "\n".join(_describe(e, prefix) for e in exc.errors())
        raise ConfigError(f"{source}: invalid {model.__name__}:\n{lines}") from None


def _no_alias_loader() -> type:
    """Safe YAML without aliases (``*name``, ``<<: *name``): an alias can make a few lines expand
    to gigabytes (a "billion laughs"), and no riskmodel config needs one. Built on first use so
    ``riskmodel --help`` never imports yaml."""
    import yaml

    class _NoAliasLoader(yaml.SafeLoader):
        def compose_node(self, parent: Any, index: Any) -> Any:
            if self.check_event(yaml.AliasEvent):
                event = self.peek_event()
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"YAML aliases (*{event.anchor}) are not allowed in riskmodel configs; write "
                    "the values out",
                    event.start_mark,
                )
            return super().compose_node(parent, index)

    return _NoAliasLoader


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file safely (no Python objects); a clear error if missing or malformed."""
    import yaml  # here, not at the top: `riskmodel --help` never reads a config file

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_no_alias_loader())  # noqa: S506
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None


def load_config(path: str | Path, model: type[M], **overrides: Any) -> M:
    """Load a YAML file into ``model``; ``overrides`` (non-None) replace top-level keys."""
    data = read_yaml(path)
    if isinstance(data, dict):
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    return validate_mapping(data, model, source=str(path))


def resolve_relative(path: str | Path, base_file: str | Path) -> Path:
    """Resolve a path written in a config file against that file's directory."""
    p = Path(path)
    return p if p.is_absolute() else (Path(base_file).resolve().parent / p).resolve()


__all__ = [
    "ConfigError",
    "StrictModel",
    "load_config",
    "read_yaml",
    "resolve_relative",
    "validate_mapping",
]
