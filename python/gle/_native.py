"""The binding to libgle, the Go library built as a shared object.

Every C function returns NULL or an error string "kind: message"; `call`
turns the latter into the matching Python exception. ctypes releases the
GIL during every call, so other Python threads keep running while Go
works.
"""

from __future__ import annotations

import ctypes
import json
import os
from pathlib import Path

import numpy as np

from .errors import (
    CancelledError,
    DivergedError,
    GleError,
    MismatchError,
    ShapeError,
    SpecError,
    TooLargeError,
)

_HERE = Path(__file__).resolve().parent


def _load() -> ctypes.CDLL:
    path = os.environ.get("GLE_LIBRARY") or str(_HERE / "libgle.so")
    if not os.path.exists(path):
        raise ImportError(
            f"gle: the shared library {path} is missing: build it with `make python` "
            "(go build -buildmode=c-shared -o python/gle/libgle.so ./cmd/libgle)"
        )
    return ctypes.CDLL(path)


lib = _load()

_i64 = ctypes.c_int64
_f64 = ctypes.c_double
_pi64 = ctypes.POINTER(ctypes.c_int64)
_pf64 = ctypes.POINTER(ctypes.c_double)
_str = ctypes.c_char_p
_pstr = ctypes.POINTER(ctypes.c_void_p)
_err = ctypes.c_void_p  # a C string to free, or NULL

_SIGNATURES = {
    "gle_free": (None, [ctypes.c_void_p]),
    "gle_release": (None, [_i64]),
    "gle_handles": (_i64, []),
    "gle_network_from_json": (_err, [_str, _pi64]),
    "gle_network_from_file": (_err, [_str, _pi64]),
    "gle_network_info": (_err, [_i64, _pstr]),
    "gle_param_get": (_err, [_i64, _str, _pf64, _i64]),
    "gle_param_set": (_err, [_i64, _str, _pf64, _i64]),
    "gle_network_save": (_err, [_i64, _str, _i64]),
    "gle_simulate": (_err, [_i64, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _pf64, _i64, _pi64]),
    "gle_trainer_new": (_err, [_i64, _i64, _str, _i64, _pi64]),
    "gle_trainer_run": (_err, [_i64, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _pf64, ctypes.POINTER(ctypes.c_int32), _pf64]),
    "gle_trainer_reset": (_err, [_i64]),
    "gle_trainer_info": (_err, [_i64, _pstr]),
    "gle_trainer_state": (_err, [_i64, _pi64]),
    "gle_trainer_set_lr": (_err, [_i64, _f64]),
    "gle_trainer_set_threads": (_err, [_i64, _i64]),
    "gle_trainer_save": (_err, [_i64, _str, _str]),
    "gle_trainer_load": (_err, [_str, _str, _i64, _pi64, _pi64, _pstr]),
    "gle_dataset_new": (_err, [_i64, _i64, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _pi64]),
    "gle_listen_new": (_err, [_str, _pi64]),
    "gle_listen_push": (_err, [_i64, _pf64, _i64, _pstr]),
    "gle_fit": (_err, [_i64, _i64, _i64, _str, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int32), _pstr]),
    "gle_grad": (_err, [_i64, _str, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _pi64, _pf64]),
    "gle_align": (_err, [_i64, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _i64, ctypes.c_char_p, ctypes.c_char_p, _pstr]),
    "gle_bundle_info": (_err, [_i64, _pstr]),
    "gle_bundle_get": (_err, [_i64, _str, ctypes.c_void_p, _i64]),
    "gle_mnist1d": (_err, [_i64, _i64, _i64, _f64, _pi64]),
    "gle_logmel": (_err, [_pf64, _i64, _str, _i64, _i64, _i64, _i64, _f64, _f64, _pi64]),
    "gle_conformance": (_err, [_str, _i64, _pstr]),
    "gle_go_time": (_err, [_str, _i64, _pf64, _i64, _i64, _i64, _i64, _pf64, _pi64, _pf64]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    _fn = getattr(lib, _name)
    _fn.restype, _fn.argtypes = _res, _args

_KINDS = {
    "invalid": SpecError,
    "unknown": SpecError,
    "nonfinite": SpecError,
    "shape": ShapeError,
    "toolarge": TooLargeError,
    "diverged": DivergedError,
    "mismatch": MismatchError,
    "canceled": CancelledError,
    "notexist": FileNotFoundError,
    "exists": FileExistsError,
}


def _text(p: int | None) -> str:
    """Returns the C string at p and frees it."""
    if not p:
        return ""
    try:
        return ctypes.string_at(p).decode()
    finally:
        lib.gle_free(p)


def call(name: str, *args) -> None:
    """Calls a libgle function and raises its error, if any."""
    err = getattr(lib, name)(*args)
    if err:
        kind, _, msg = _text(err).partition(": ")
        raise _KINDS.get(kind, GleError)(msg)


def call_json(name: str, *args):
    """Calls a libgle function whose last argument receives a JSON string."""
    out = ctypes.c_void_p()
    call(name, *args, ctypes.byref(out))
    return json.loads(_text(out.value))


def cstr(s: str | os.PathLike) -> bytes:
    return os.fsencode(s) if isinstance(s, os.PathLike) else str(s).encode()


def ptr(a: np.ndarray | None):
    """A pointer to the data of a C-contiguous float64 or int64 array (or NULL)."""
    if a is None:
        return None
    if a.dtype == np.int64:
        return a.ctypes.data_as(_pi64)
    return a.ctypes.data_as(_pf64)


class Handle:
    """An object that lives in Go, released when this one is collected."""

    def __init__(self, h: int):
        self._h = h

    def __del__(self):
        h, self._h = getattr(self, "_h", 0), 0
        if h and lib is not None:
            lib.gle_release(h)


def bundle(h: int) -> dict[str, np.ndarray]:
    """Copies every array of a Go bundle into NumPy and releases it."""
    try:
        info = call_json("gle_bundle_info", h)
        out = {}
        for name in info["names"]:
            a = info["arrays"][name]
            arr = np.empty(a["shape"], dtype=np.float64 if a["dtype"] == "float64" else np.int64)
            call("gle_bundle_get", h, cstr(name), arr.ctypes.data_as(ctypes.c_void_p), arr.size)
            out[name] = arr
        return out
    finally:
        lib.gle_release(h)


# The callback type of gle_fit's events (JSON text).
EVENTS = ctypes.CFUNCTYPE(None, ctypes.c_char_p)


def handles() -> int:
    """The number of objects alive in Go (for leak checks)."""
    return lib.gle_handles()
