"""The exported kernels and their AOT signatures: one table shared by the build and the selector.

Each entry maps an exported name to (kernel source module, function name, numba signature).
Arrays are C-contiguous (``[::1]``); integers are int64. The AOT module does not check
dtypes or layouts (numba's array unboxing trusts the caller), so the public modules
(``shared.iota.curl`` and friends) convert or check their inputs before calling a kernel.
"""

from __future__ import annotations

__all__ = ["KERNELS"]

KERNELS: dict[str, tuple[str, str, str]] = {
    "curl_transform": (
        "shared._native.curl_source",
        "transform",
        "void(int8[::1], int64, int64[::1], int8[::1])",
    ),
    "curl_absorb_squeeze": (
        "shared._native.curl_source",
        "absorb_squeeze",
        "int8[::1](int8[::1], int8[::1], int64, int64, int64[::1], int8[::1])",
    ),
    "curl_sliced_hash_many": (
        "shared._native.curl_source",
        "sliced_hash_many",
        "int8[:, ::1](int8[:, ::1], int64, int64[::1])",
    ),
    "curl_sliced_absorb_many": (
        "shared._native.curl_source",
        "sliced_absorb_many",
        "int8[:, ::1](int8[:, ::1], int64, int64[::1])",
    ),
    "kerl_to_bytes": (
        "shared._native.kerl_source",
        "to_bytes",
        "void(int8[::1], uint64[::1], uint8[::1])",
    ),
    "kerl_to_trits": (
        "shared._native.kerl_source",
        "to_trits",
        "void(uint8[::1], uint64[::1], int8[::1])",
    ),
    "pow_search": (
        "shared._native.pow_source",
        "search",
        "int64(int8[::1], int8[::1], int64, int64[::1], int64, int8[::1])",
    ),
    "mam_hash_chains": (
        "shared._native.mam_source",
        "hash_chains",
        "int8[:, ::1](int8[:, ::1], int64[::1], int64, int64[::1])",
    ),
    "mam_hamming_nonce": (
        "shared._native.mam_source",
        "hamming_nonce",
        "int8[::1](int8[::1], int64, int8[:, ::1], int64[::1], int8[::1])",
    ),
}
