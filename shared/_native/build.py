"""Builds ``shared._native._aot``: every numba kernel compiled ahead of time into one extension.

    python -m shared._native.build [--output-dir DIR] [--name _aot] [--target-cpu CPU]

Needs numba, a C compiler and the Python headers (the Docker build stage has them); the
module it writes needs neither numba nor llvmlite at run time, only numpy. ``numba.pycc``
is pending deprecation in numba; see docs/docker.md for what to do when it goes.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from shared._native._specs import KERNELS

__all__ = ["build", "main"]

DEFAULT_OUTPUT = Path(__file__).resolve().parent


@contextlib.contextmanager
def _releasing_the_gil() -> Iterator[None]:
    """Make the exported wrappers release the GIL around each kernel, as ``nogil=True`` does
    in JIT mode.

    pycc compiles every export with a fresh ``Flags()`` whose ``release_gil`` is off and has
    no option for it, so without this the devnet's two concurrent attachToTangle searches
    took turns on one core in the images. The kernels touch no Python object between
    unboxing their arguments and boxing their result, which is when the wrapper holds the
    GIL again, so releasing it is safe.
    """
    from numba.pycc import compiler

    original = compiler.Flags

    class _NoGilFlags(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self.release_gil = True

    setattr(compiler, "Flags", _NoGilFlags)  # noqa: B010 - mypy: a class attribute
    try:
        yield
    finally:
        setattr(compiler, "Flags", original)  # noqa: B010


def build(output_dir: Path, name: str = "_aot", target_cpu: str = "") -> Path:
    """Compile every kernel of ``KERNELS`` into ``output_dir``; return the extension's path.

    ``target_cpu`` "" means LLVM's generic CPU for the machine's architecture, so the image
    runs on any x86-64 host, not only on the one that built it.
    """
    with warnings.catch_warnings():
        # pycc announces its pending deprecation on import; docs/docker.md covers it.
        warnings.simplefilter("ignore")
        from numba.pycc import CC

    output_dir.mkdir(parents=True, exist_ok=True)
    cc = CC(name)
    cc.output_dir = str(output_dir)
    cc.target_cpu = target_cpu
    cc.verbose = False
    for export_name, (module_name, function, signature) in KERNELS.items():
        dispatcher = getattr(importlib.import_module(module_name), function)
        # Export the plain Python function; the @njit callees it uses are compiled into
        # the same module.
        cc.export(export_name, signature)(dispatcher.py_func)
    with warnings.catch_warnings(), _releasing_the_gil():
        warnings.simplefilter("ignore")
        cc.compile()
    built = sorted(output_dir.glob(f"{name}.*.so")) + sorted(output_dir.glob(f"{name}.*.pyd"))
    if not built:
        raise RuntimeError(f"numba.pycc reported success but no {name}.*.so in {output_dir}")
    return built[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--name", default="_aot", help="module name (default _aot)")
    parser.add_argument("--target-cpu", default="", help="LLVM CPU name; default generic")
    args = parser.parse_args(argv)
    started = time.monotonic()
    path = build(args.output_dir, args.name, args.target_cpu)
    seconds = time.monotonic() - started
    print(
        f"event=kernels_built path={path} kernels={len(KERNELS)} "
        f"bytes={path.stat().st_size} seconds={seconds:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
