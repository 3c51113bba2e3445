"""The ahead-of-time compiled kernels (shared._native) against the numba JIT ones they replace.

One AOT build per module run (numba.pycc, ~15 s) into a temporary directory; every exported
kernel must give byte-identical results to its JIT twin on random inputs, and the public
modules must work on the AOT module in a process where numba cannot be imported at all,
which is how the container image runs them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import numpy as np
import pytest

from shared._native import ENV_VARIABLE, load_jit, load_kernels
from shared._native._specs import KERNELS
from shared._native.build import build
from shared.iota.curl import STATE_LENGTH, TRANSFORM_INDICES, TRUTH_TABLE
from shared.iota.kerl import _HALF_242, _HALF_243
from shared.mam._kernels import _LANE_TRITS

ROOT = Path(__file__).resolve().parents[2]
RNG_SEED = 20240611


@pytest.fixture(scope="module")
def aot_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("aot"))


@pytest.fixture(scope="module")
def aot(aot_path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("_aot", aot_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def jit() -> SimpleNamespace:
    return load_jit()


def random_trits(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.integers(-1, 2, size=shape, dtype=np.int8)


def test_every_kernel_is_exported(aot: ModuleType) -> None:
    assert sorted(name for name in KERNELS if callable(getattr(aot, name, None))) == sorted(KERNELS)


@pytest.mark.parametrize("rounds", [27, 81])
def test_curl_transform_and_absorb_squeeze_match(
    aot: ModuleType, jit: SimpleNamespace, rounds: int
) -> None:
    rng = np.random.default_rng(RNG_SEED + rounds)
    for _ in range(5):
        state = random_trits(rng, STATE_LENGTH)
        a, b = state.copy(), state.copy()
        aot.curl_transform(a, rounds, TRANSFORM_INDICES, TRUTH_TABLE)
        jit.curl_transform(b, rounds, TRANSFORM_INDICES, TRUTH_TABLE)
        assert (a != state).any()  # the kernel really ran
        assert (a == b).all()
    # ragged and multi-block inputs, short and long outputs
    for length, out_length in ((243, 243), (8019, 243), (100, 486), (1, 50)):
        trits = random_trits(rng, length)
        state_a = np.zeros(STATE_LENGTH, dtype=np.int8)
        state_b = np.zeros(STATE_LENGTH, dtype=np.int8)
        got = aot.curl_absorb_squeeze(
            state_a, trits, out_length, rounds, TRANSFORM_INDICES, TRUTH_TABLE
        )
        want = jit.curl_absorb_squeeze(
            state_b, trits, out_length, rounds, TRANSFORM_INDICES, TRUTH_TABLE
        )
        assert got.dtype == np.int8 and got.shape == (out_length,)
        assert (got == want).all() and (state_a == state_b).all()


@pytest.mark.parametrize("rounds", [27, 81])
def test_curl_sliced_batch_matches(aot: ModuleType, jit: SimpleNamespace, rounds: int) -> None:
    rng = np.random.default_rng(RNG_SEED)
    for rows in (1, 63, 64, 130):
        batch = random_trits(rng, rows, 8019)
        got = aot.curl_sliced_hash_many(batch, rounds, TRANSFORM_INDICES)
        want = jit.curl_sliced_hash_many(batch, rounds, TRANSFORM_INDICES)
        assert got.shape == (rows, 243)
        assert (got == want).all()
    # the batch kernel agrees with the single-sponge one (not just AOT with JIT)
    single = aot.curl_absorb_squeeze(
        np.zeros(STATE_LENGTH, dtype=np.int8), batch[5], 243, rounds, TRANSFORM_INDICES, TRUTH_TABLE
    )
    assert (got[5] == single).all()


def test_kerl_conversions_match(aot: ModuleType, jit: SimpleNamespace) -> None:
    rng = np.random.default_rng(RNG_SEED + 1)
    for _ in range(50):
        trits = random_trits(rng, 243)
        got, want = np.empty(48, np.uint8), np.empty(48, np.uint8)
        aot.kerl_to_bytes(trits, _HALF_242, got)
        jit.kerl_to_bytes(trits, _HALF_242, want)
        assert got.tobytes() == want.tobytes()
        # a Keccak digest is read-only memory: the AOT wrapper must accept it as JIT does
        digest = np.frombuffer(rng.bytes(48), dtype=np.uint8)
        back_a, back_b = np.empty(243, np.int8), np.empty(243, np.int8)
        aot.kerl_to_trits(digest, _HALF_243, back_a)
        jit.kerl_to_trits(digest, _HALF_243, back_b)
        assert (back_a == back_b).all() and back_a[-1] == 0
    # round trip through both kernels of the AOT module
    trits[-1] = 0
    aot.kerl_to_bytes(trits, _HALF_242, got)
    aot.kerl_to_trits(got, _HALF_243, back_a)
    assert (back_a[:242] == trits[:242]).all()


def test_pow_search_finds_the_same_valid_nonce(aot: ModuleType, jit: SimpleNamespace) -> None:
    rng = np.random.default_rng(RNG_SEED + 2)
    mwm = 7
    midstate = random_trits(rng, STATE_LENGTH)
    block = random_trits(rng, 243)
    block[162:] = 0
    outs = []
    for kernels in (aot, jit):
        work = block.copy()
        out = np.empty(243, dtype=np.int8)
        found = 0
        for _ in range(50):
            found = kernels.pow_search(midstate, work, mwm, TRANSFORM_INDICES, 2000, out)
            if found:
                break
            work[:166] = block[:166]
        assert found == 1
        outs.append(out.copy())
    assert (outs[0] == outs[1]).all()
    # the nonce really meets the weight: finish the sponge by hand
    state = midstate.copy()
    state[:243] = outs[0]
    aot.curl_transform(state, 81, TRANSFORM_INDICES, TRUTH_TABLE)
    assert (state[243 - mwm : 243] == 0).all()


def test_curl_sliced_absorb_matches_the_scalar_sponge(
    aot: ModuleType, jit: SimpleNamespace
) -> None:
    rng = np.random.default_rng(RNG_SEED + 4)
    batch = random_trits(rng, 260, 3 * 243)  # 256 lanes and a second, partial group
    got = aot.curl_sliced_absorb_many(batch, 81, TRANSFORM_INDICES)
    assert (got == jit.curl_sliced_absorb_many(batch, 81, TRANSFORM_INDICES)).all()
    for row in (0, 63, 64, 255, 256, 259):
        state = np.zeros(STATE_LENGTH, dtype=np.int8)
        for offset in range(0, batch.shape[1], 243):
            state[:243] = batch[row, offset : offset + 243]
            aot.curl_transform(state, 81, TRANSFORM_INDICES, TRUTH_TABLE)
        assert (got[row] == state).all()


@pytest.mark.parametrize("mode", ["aot", "jit"])
def test_pow_search_lets_other_threads_run(
    aot: ModuleType, jit: SimpleNamespace, mode: str
) -> None:
    """The devnet runs two attachToTangle searches at once: the kernel must release the GIL.

    While a long search runs in a thread, this thread keeps waking up every millisecond;
    with the GIL held for the whole call it would get the GIL back only once the search
    returned, i.e. about one wake-up.
    """
    kernels = aot if mode == "aot" else jit
    rng = np.random.default_rng(RNG_SEED + 5)
    midstate = random_trits(rng, STATE_LENGTH)
    block = np.zeros(243, dtype=np.int8)
    out = np.empty(243, dtype=np.int8)
    kernels.pow_search(midstate, block.copy(), 243, TRANSFORM_INDICES, 1, out)  # compile
    started = threading.Event()
    seconds: list[float] = []

    def search() -> None:
        started.set()
        begin = time.perf_counter()
        # MWM 243 is never met: the call runs all its iterations (~0.2-0.5 s).
        assert kernels.pow_search(midstate, block, 243, TRANSFORM_INDICES, 3000, out) == 0
        seconds.append(time.perf_counter() - begin)

    thread = threading.Thread(target=search)
    thread.start()
    started.wait()
    wakeups = 0
    while thread.is_alive():
        time.sleep(0.001)
        wakeups += 1
    thread.join()
    assert seconds and seconds[0] > 0.05
    assert wakeups >= 10, f"{wakeups} wake-ups during a {seconds[0]:.2f} s search"


def test_mam_hash_chains_and_nonce_match(aot: ModuleType, jit: SimpleNamespace) -> None:
    rng = np.random.default_rng(RNG_SEED + 3)
    rows = random_trits(rng, 70, 243)  # more than one 64-lane word
    counts = rng.integers(0, 27, size=70, dtype=np.int64)
    got = aot.mam_hash_chains(rows, counts, 27, TRANSFORM_INDICES)
    want = jit.mam_hash_chains(rows, counts, 27, TRANSFORM_INDICES)
    assert got.shape == (70, 243) and (got == want).all()
    assert (got[counts == 0] == rows[counts == 0]).all()
    for security in (1, 2):
        state = random_trits(rng, STATE_LENGTH)
        a = aot.mam_hamming_nonce(state, security, _LANE_TRITS, TRANSFORM_INDICES, TRUTH_TABLE)
        b = jit.mam_hamming_nonce(state, security, _LANE_TRITS, TRANSFORM_INDICES, TRUTH_TABLE)
        assert a.shape == (81,) and (a == b).all()


# The public API on the AOT module, in a process that cannot import numba at all; with "-"
# instead of a module path, the same probe on the JIT kernels as the reference.
_PUBLIC_SCRIPT = r"""
import importlib.abc, importlib.util, json, sys

class NoNumba(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("numba", "llvmlite"):
            raise ImportError(f"{name} is not installed in this image")
        return None

if sys.argv[1] != "-":
    sys.meta_path.insert(0, NoNumba())
    spec = importlib.util.spec_from_file_location("shared._native._aot", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["shared._native._aot"] = module

import probe
import shared.mam
from shared._native import MODE
from shared.iota import curl, kerl, pow
from shared.mam._kernels import hamming_nonce, hash_chains

result = probe.run(curl, kerl, pow, hamming_nonce, hash_chains)
print(json.dumps(dict(mode=MODE, numba="numba" in sys.modules, **result)))
"""

_PROBE = r"""
import numpy as np

def run(curl, kerl, pow, hamming_nonce, hash_chains):
    rng = np.random.default_rng(7)
    trits = rng.integers(-1, 2, size=8019, dtype=np.int8)
    batch = rng.integers(-1, 2, size=(3, 486), dtype=np.int8)
    state = rng.integers(-1, 2, size=729, dtype=np.int8)
    done = pow.find_nonce(trits, 5)
    return dict(
        curl81=curl.curl_hash(trits).tolist(),
        curl27=curl.curl_hash(trits[:486], 27).tolist(),
        many=curl.hash_many(batch, 81).tolist(),
        kerl=kerl.kerl_hash(trits[:486]).tolist(),
        chain=kerl.kerl_hash_chain(trits[:243], 3).tolist(),
        pow_zeros=curl.curl_hash(done)[-5:].tolist(),
        chains=hash_chains(batch[:, :243], [0, 1, 26]).tolist(),
        nonce=hamming_nonce(state, 2).tolist(),
    )
"""


def _run_public(tmp_path: Path, aot_path: Path | None, mode: str) -> dict[str, Any]:
    (tmp_path / "probe.py").write_text(_PROBE)
    env = {
        **os.environ,
        ENV_VARIABLE: mode,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
    }
    module = "-" if aot_path is None else str(aot_path)
    args = [sys.executable, "-W", "ignore", "-c", _PUBLIC_SCRIPT, module]
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    answer: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer


def test_public_modules_run_on_aot_without_numba(aot_path: Path, tmp_path: Path) -> None:
    with_aot = _run_public(tmp_path, aot_path, "aot")
    assert with_aot.pop("mode") == "aot" and with_aot.pop("numba") is False
    with_jit = _run_public(tmp_path, None, "jit")
    assert with_jit.pop("mode") == "jit" and with_jit.pop("numba") is True
    assert with_aot["pow_zeros"] == [0] * 5
    assert with_aot == with_jit


def test_aot_mode_fails_loudly_when_the_module_is_missing() -> None:
    if importlib.util.find_spec("shared._native._aot") is not None:
        pytest.skip("an AOT module is built in the source tree; this test needs it absent")
    with pytest.raises(ImportError, match=f"{ENV_VARIABLE}=aot.*shared._native.build"):
        load_kernels("aot")
    mode, _kernels = load_kernels("auto")
    assert mode == "jit"


def test_a_bad_kernel_mode_names_the_variable() -> None:
    with pytest.raises(ValueError, match=f"{ENV_VARIABLE}: must be one of auto, aot, jit"):
        load_kernels("fast")


def test_public_transform_refuses_arrays_the_kernels_would_misread() -> None:
    from shared.iota.curl import new_state, transform

    state = new_state()
    transform(state, 27)  # the right array is fine
    for bad in (
        np.zeros(729, dtype=np.int64),
        np.zeros(243, dtype=np.int8),
        np.zeros(1458, dtype=np.int8)[::2],
    ):
        with pytest.raises(ValueError, match="729 trits"):
            transform(bad)  # type: ignore[arg-type]  # wrong on purpose
