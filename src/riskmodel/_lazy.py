"""Lazy re-exports for the stage packages: names load on first use, so ``riskmodel --help`` and
``import riskmodel.config`` do not import pandas-heavy or LightGBM modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_exports(
    package: str, where: dict[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    ``where`` maps each public name to the private module (``"_build"``) that defines it, or to
    ``"_module:attr"`` when the public name differs from the module's; a loaded name is cached in
    ``namespace`` (the package's ``globals()``).
    """

    def __getattr__(name: str) -> Any:
        if name in where:
            module, _, attr = where[name].partition(":")
            value = getattr(importlib.import_module(f"{package}.{module}"), attr or name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*namespace, *where])

    return __getattr__, __dir__
