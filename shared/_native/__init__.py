"""Selects the compiled kernels: ahead-of-time compiled in container images, numba JIT otherwise.

``kernels`` has one callable per entry of ``shared._native._specs.KERNELS`` (``curl_transform``,
``kerl_to_bytes``, ``pow_search``, ...) with the same call signature in both modes; ``MODE`` says
which one was loaded. ``MACHINE_ECONOMY_KERNELS`` chooses:

- ``auto`` (default): the AOT module ``shared._native._aot`` if it was built, else numba JIT;
- ``aot``: the AOT module, and an ImportError naming the variable if it is missing
  (container images set this, so a broken build cannot fall back to a numba that is absent);
- ``jit``: numba JIT with ``cache=True`` even when the AOT module exists (development, tests).
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType, SimpleNamespace
from typing import Any

from shared._native._specs import KERNELS

__all__ = ["ENV_VARIABLE", "MODE", "kernels", "load_jit", "load_kernels"]

ENV_VARIABLE = "MACHINE_ECONOMY_KERNELS"
_MODES = ("auto", "aot", "jit")


def load_jit() -> SimpleNamespace:
    """The numba JIT versions of every kernel (imports numba)."""
    found: dict[str, Any] = {}
    for name, (module, function, _signature) in KERNELS.items():
        found[name] = getattr(importlib.import_module(module), function)
    return SimpleNamespace(**found)


def _load_aot() -> ModuleType:
    module = importlib.import_module("shared._native._aot")
    missing = [name for name in KERNELS if not hasattr(module, name)]
    if missing:
        # A stale build from an older kernel table: refuse it rather than half-work.
        raise ImportError(f"shared._native._aot lacks {', '.join(missing)}; rebuild it")
    return module


def load_kernels(mode: str | None = None) -> tuple[str, Any]:
    """(mode actually used, kernel namespace) for ``mode`` or ``$MACHINE_ECONOMY_KERNELS``."""
    wanted = (mode or os.environ.get(ENV_VARIABLE) or "auto").strip().lower()
    if wanted not in _MODES:
        raise ValueError(f"{ENV_VARIABLE}: must be one of {', '.join(_MODES)}, not {wanted!r}")
    if wanted in ("auto", "aot"):
        try:
            return "aot", _load_aot()
        except ImportError as error:
            if wanted == "aot":
                raise ImportError(
                    f"{ENV_VARIABLE}=aot but the ahead-of-time kernels cannot be loaded "
                    f"({error}); build them with `python -m shared._native.build`"
                ) from error
    return "jit", load_jit()


MODE, kernels = load_kernels()
