"""gle — Generalized Latent Equilibrium networks from Python, on the Go engine.

A network of GLE neurons (membrane potential u, membrane time constant τm,
prospective time constant τr) integrates its input,

    τm u̇ = −u + Σ_p W_p r_p + b + γ ê,    r = φ(ŭ),   ŭ = u + τr u̇,

and learns from prospective errors ê = D⁺_τm I⁻_τr[φ′ ⊙ Σ_p M_pᵀ ê_p] that
travel back in real time (Ẇ ∝ ê rᵀ, ḃ ∝ ê, τ̇m ∝ −ê ⊙ u̇). The Go library
runs the discrete dynamics of the reference implementation (docs/model.md);
this package hands it NumPy arrays and returns NumPy arrays.

    import gle, numpy as np
    net = gle.Network({"dt": 0.1, "loss": "mse", "optimizer": {"kind": "adam", "lr": 1e-3},
                       "layers": [{"in": 1, "out": 8, "phi": "tanh", "tau_m": 1, "tau_r": 0.2},
                                  {"in": 8, "out": 1, "tau_m": 0.5, "tau_r": 0.5}]})
    x = np.sin(0.1 * np.arange(400))[:, None, None]       # [steps, batch, inputs]
    y = 0.5 * np.roll(x, 5, axis=0)                       # [steps, batch, outputs]
    tr = gle.Trainer(net, batch=1)
    history = tr.fit(x, y, epochs=20)
    out, traces = net.simulate(x, y, traces=True)         # u, r, ê, λ per population
    grads = gle.grad(net, x, y, method="bptt")            # exact gradient per tensor

Arrays are time-major: inputs [steps, batch, inputs] (a 2-D array is one
sample), targets of values [steps, batch, outputs] (loss "mse"), class
labels [steps, batch] or [batch] (loss "ce"). Any numeric dtype or memory
order is converted; wrong shapes are rejected, naming the shape wanted.
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import _native, data
from ._native import Handle, bundle, call, call_json, cstr, lib, ptr
from .errors import (
    CancelledError,
    DivergedError,
    GleError,
    MismatchError,
    ShapeError,
    SpecError,
    TooLargeError,
)

__all__ = [
    "Network", "Trainer", "grad", "align", "conformance", "data",
    "GleError", "SpecError", "ShapeError", "TooLargeError", "DivergedError", "MismatchError", "CancelledError",
]

__version__ = "0.1.0"


def _numeric(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} has dtype {arr.dtype}: want an array of numbers")
    return arr


def _inputs(x: Any, n_inputs: int) -> np.ndarray:
    """x as a C-contiguous float64 [steps, batch, inputs] array."""
    arr = _numeric(x, "x")
    if arr.ndim == 1 and n_inputs == 1:
        arr = arr[:, None, None]
    elif arr.ndim == 2:
        arr = arr[:, None, :]
    if arr.ndim != 3 or arr.shape[2] != n_inputs or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ShapeError(f"x has shape {arr.shape}: want [steps, batch, {n_inputs}] (or [steps, {n_inputs}] for one sample)")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise SpecError(f"x{list(np.argwhere(bad)[0])} = {arr[tuple(np.argwhere(bad)[0])]}: inputs must be finite")
    return arr


def _targets(y: Any, loss: str, steps: int, batch: int, n_out: int):
    """(kind, values, classes) of the C API for targets y."""
    if y is None:
        return 0, None, None
    arr = _numeric(y, "y")
    if loss == "ce":
        if arr.dtype.kind == "f":
            if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
                raise SpecError("y: class labels must be whole numbers")
        if arr.size and (arr.min() < 0 or arr.max() >= n_out):
            raise SpecError(f"y: class labels must be in 0…{n_out - 1}, have {arr.min():g}…{arr.max():g}")
        arr = arr.astype(np.int64)
        if arr.ndim == 1 and arr.shape[0] == batch:
            arr = np.broadcast_to(arr, (steps, batch))
        if arr.shape != (steps, batch):
            raise ShapeError(f"y has shape {arr.shape}: class labels want [steps, batch] = [{steps}, {batch}] or [batch]")
        return 2, None, np.ascontiguousarray(arr, dtype=np.int64)
    if loss == "none":
        raise SpecError("y: the network's loss is none: it takes no targets")
    if arr.ndim == 2 and batch == 1:
        arr = arr[:, None, :]
    if arr.shape != (steps, batch, n_out):
        raise ShapeError(f"y has shape {arr.shape}: targets want [steps, batch, outputs] = [{steps}, {batch}, {n_out}]")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise SpecError("y: targets must be finite")
    return 1, arr, None


def _json_default(v: Any) -> Any:
    """NumPy arrays and scalars in a spec dict, as JSON."""
    if isinstance(v, (np.ndarray, np.generic)):
        return v.tolist()
    raise TypeError(f"a {type(v).__name__} in the spec: want numbers, strings, lists and dicts")


def _finite_spec(v: Any, path: str = "") -> None:
    """Refuses NaN and ±Inf in a spec dict, naming where (JSON has no such
    numbers, and the Go decoder would only say that the text is invalid)."""
    if isinstance(v, float) and not np.isfinite(v):
        raise SpecError(f"{path or 'spec'} = {v}: must be finite")
    if isinstance(v, Mapping):
        for k, w in v.items():
            _finite_spec(w, f"{path}.{k}" if path else str(k))
    elif isinstance(v, (list, tuple)):
        for i, w in enumerate(v):
            _finite_spec(w, f"{path}[{i}]")
    elif isinstance(v, np.ndarray):
        _finite_spec(v.tolist(), path)


class Network(Handle):
    """A network of populations and projections (either spec form).

    spec: a dict (the schema of docs/spec.md), the path of a .json, .yaml
    or .yml spec file, or of a .safetensors model written by `save`.
    Parameters read and write as NumPy arrays by tensor name:
    ``net["layers.0.weight"]``, ``net["projections.1.weight"] = w``.

    Threads: calls on one network and its trainers run one at a time (a
    lock per network); different networks run in parallel, the GIL
    released.
    """

    def __init__(self, spec: Mapping[str, Any] | str | os.PathLike):
        h = ctypes.c_int64()
        if isinstance(spec, Mapping):
            _finite_spec(spec)
            call("gle_network_from_json", json.dumps(spec, default=_json_default).encode(), ctypes.byref(h))
        elif isinstance(spec, (str, os.PathLike)):
            call("gle_network_from_file", cstr(spec), ctypes.byref(h))
        else:
            raise TypeError(f"spec is a {type(spec).__name__}: want a dict or a file path")
        super().__init__(h.value)
        self._lock = threading.RLock()
        self._info = call_json("gle_network_info", self._h)

    @classmethod
    def _from_handle(cls, h: int) -> "Network":
        n = cls.__new__(cls)
        Handle.__init__(n, h)
        n._lock = threading.RLock()
        n._info = call_json("gle_network_info", h)
        return n

    @property
    def inputs(self) -> int:
        """Input lines."""
        return self._info["inputs"]

    @property
    def outputs(self) -> int:
        """Size of the output population."""
        return self._info["outputs"]

    @property
    def dt(self) -> float:
        """The Euler step."""
        return self._info["dt"]

    @property
    def loss(self) -> str:
        """"mse", "ce" or "none"."""
        return self._info["loss"]

    @property
    def populations(self) -> list[dict]:
        """[{"name", "size"}] per population."""
        return self._info["populations"]

    @property
    def tensors(self) -> dict[str, tuple[int, ...]]:
        """The parameter tensors: name → shape."""
        return {t["name"]: tuple(t["shape"]) for t in self._info["tensors"]}

    def spec(self) -> dict:
        """The spec with the current parameters (loadable by Network)."""
        with self._lock:
            return call_json("gle_network_info", self._h)["spec"]

    def __getitem__(self, name: str) -> np.ndarray:
        shape = self.tensors.get(name)
        if shape is None:
            raise KeyError(f"{name!r}: no such tensor (have {', '.join(self.tensors)})")
        a = np.empty(shape, dtype=np.float64)
        with self._lock:
            call("gle_param_get", self._h, name.encode(), ptr(a), a.size)
        return a

    def __setitem__(self, name: str, value: Any) -> None:
        shape = self.tensors.get(name)
        if shape is None:
            raise KeyError(f"{name!r}: no such tensor (have {', '.join(self.tensors)})")
        a = np.ascontiguousarray(_numeric(value, name), dtype=np.float64)
        if a.shape != shape:
            raise ShapeError(f"{name} has shape {shape}, the value {a.shape}")
        with self._lock:
            call("gle_param_set", self._h, name.encode(), ptr(a), a.size)

    def parameters(self) -> dict[str, np.ndarray]:
        """Every parameter tensor, copied."""
        return {name: self[name] for name in self.tensors}

    def save(self, path: str | os.PathLike) -> None:
        """Writes the parameters as safetensors, the spec in the metadata."""
        with self._lock:
            call("gle_network_save", self._h, cstr(path))

    def simulate(self, x: Any, y: Any = None, *, traces: bool = False):
        """Runs the network on x from rest, without learning.

        Returns the outputs [steps, batch, outputs] — the output population's
        rate before each step (the reference's one-step lag) — and, with
        traces=True, also a dict of per-step arrays [steps, batch, N] per
        population: PREFIX.u, .r, .ehat (GLE's ê), .r_prime (φ′), and
        .lambda (the adjoint λ, for networks without loops). Targets y only
        drive the errors.
        """
        xa = _inputs(x, self.inputs)
        T, B = xa.shape[:2]
        kind, yv, yc = _targets(y, self.loss, T, B, self.outputs)
        out = np.empty((T, B, self.outputs), dtype=np.float64)
        tr = ctypes.c_int64()
        with self._lock:
            call("gle_simulate", self._h, ptr(xa), T, B, self.inputs, kind, ptr(yv), ptr(yc), ptr(out), int(traces), ctypes.byref(tr))
        if not traces:
            return out
        return out, bundle(tr.value)


class Trainer(Handle):
    """Trains a network online: GLE's local rule (rule="gle"), truncated
    BPTT over N steps ("tbptt:N"), full BPTT per sequence of at most N
    steps ("bptt:N"), or forward-mode rules that step every dt: exact RTRL
    ("rtrl") and its sparse approximations ("snap2", "snap1", "eprop"); with the
    spec's optimizer (SGD or Adam), τm clamped to tau_m_min (default dt)
    and learning from learn_from_step on.

    The state carries over from call to call (reset() starts from rest);
    float32=True runs the float32 engine (GLE's rule only).
    """

    def __init__(self, net: Network, batch: int = 1, *, rule: str = "gle", float32: bool = False):
        if not isinstance(net, Network):
            raise TypeError(f"net is a {type(net).__name__}: want a gle.Network")
        if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or batch <= 0:
            raise SpecError(f"batch = {batch!r}: want a positive integer")
        h = ctypes.c_int64()
        call("gle_trainer_new", net._h, int(batch), rule.encode(), int(float32), ctypes.byref(h))
        super().__init__(h.value)
        self.net, self.batch, self.rule, self.float32 = net, int(batch), rule, float32
        self.history: list[dict] = []

    @property
    def lr(self) -> float:
        """The optimizer's learning rate."""
        with self.net._lock:
            return call_json("gle_trainer_info", self._h)["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        with self.net._lock:
            call("gle_trainer_set_lr", self._h, float(value))

    @property
    def steps(self) -> int:
        """dt steps taken so far."""
        with self.net._lock:
            return call_json("gle_trainer_info", self._h)["steps"]

    def reset(self) -> None:
        """Sets the state to rest (the parameters stay)."""
        with self.net._lock:
            call("gle_trainer_reset", self._h)

    def state(self) -> dict[str, np.ndarray]:
        """The state, copied: per population PREFIX.u, .v, .r, .r_prime
        [batch, N] and per projection PREFIX.e_bottom [batch, source size]
        (the tensor prefixes of Network.tensors)."""
        h = ctypes.c_int64()
        with self.net._lock:
            call("gle_trainer_state", self._h, ctypes.byref(h))
        return bundle(h.value)

    @staticmethod
    def _interruptible(fn: Callable[[ctypes.c_int32], Any]) -> Any:
        """Runs fn(stop) — a Go call that polls the flag stop — in a thread;
        Ctrl-C sets the flag, waits for the call to stop (after its current
        step) and raises KeyboardInterrupt, leaving the trainer usable."""
        result: dict[str, Any] = {}
        stop, done = ctypes.c_int32(0), threading.Event()

        def work():
            try:
                result["value"] = fn(stop)
            except BaseException as e:  # handed to the caller below
                result["error"] = e
            finally:
                done.set()

        # An Event, not Thread.join: a join interrupted by KeyboardInterrupt
        # may report the thread finished while it still runs.
        try:
            threading.Thread(target=work, daemon=True).start()
            while not done.wait(0.05):
                pass
        except KeyboardInterrupt:
            stop.value = 1
            while not done.wait(0.05):
                pass
            raise
        if "error" in result:
            raise result["error"]
        return result["value"]

    def run(self, x: Any, y: Any = None, *, outputs: bool = False):
        """Feeds one sequence x [steps, batch, inputs] with targets y and
        learns online; returns the mean loss per step (and the outputs
        [steps, batch, outputs] with outputs=True)."""
        xa = _inputs(x, self.net.inputs)
        T, B = xa.shape[:2]
        if B != self.batch:
            raise ShapeError(f"x has a batch of {B}, the trainer's is {self.batch}")
        kind, yv, yc = _targets(y, self.net.loss, T, B, self.net.outputs)
        out = np.empty((T, B, self.net.outputs)) if outputs else None
        loss = ctypes.c_double()

        def go(stop):
            with self.net._lock:
                call("gle_trainer_run", self._h, ptr(xa), T, B, self.net.inputs, kind, ptr(yv), ptr(yc), ptr(out),
                     ctypes.byref(stop), ctypes.byref(loss))
            return loss.value

        mean = self._interruptible(go)
        return (mean, out) if outputs else mean

    def fit(self, x: Any, y: Any = None, *, epochs: int = 1, batch_size: int | None = None, shuffle: bool = True,
            seed: int = 0, reset: bool = False, callback: Callable[[dict], Any] | None = None,
            progress: bool | None = None) -> list[dict]:
        """Trains for a number of epochs and returns the history (one dict
        per epoch: epoch, loss, seconds, lr; also kept in self.history).

        Without batch_size, x is one sequence [steps, batch, inputs] fed once
        per epoch. With batch_size (= the trainer's batch), x is a set of
        sequences [samples, steps, inputs] (or [samples, steps] for one
        input) with labels y [samples] (ce) or targets [samples, steps,
        outputs] (mse), fed in shuffled mini-batches. reset=True starts every
        epoch from rest. callback(record) runs after every epoch; progress
        shows a bar (tqdm when installed, plain lines otherwise; default:
        on when stderr is a terminal).
        """
        if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs <= 0:
            raise SpecError(f"epochs = {epochs!r}: want a positive integer")
        batches = self._batches(x, y, batch_size, shuffle, seed)
        bar = _Progress(epochs, progress)
        try:
            for e in range(1, epochs + 1):
                if reset:
                    self.reset()
                start, losses = time.perf_counter(), []
                for xb, yb in batches(e):
                    losses.append(self.run(xb, yb))
                rec = {"epoch": len(self.history) + 1, "loss": float(np.mean(losses)),
                       "seconds": time.perf_counter() - start, "lr": self.lr}
                self.history.append(rec)
                bar.update(rec)
                if callback is not None:
                    callback(rec)
        finally:
            bar.close()
        return self.history

    def _batches(self, x, y, batch_size, shuffle, seed) -> Callable[[int], Iterable]:
        if batch_size is None:
            return lambda epoch: [(x, y)]
        if batch_size != self.batch:
            raise SpecError(f"batch_size = {batch_size}: the trainer's batch is {self.batch}")
        xa = _numeric(x, "x")
        if xa.ndim == 2:
            xa = xa[:, :, None]
        if xa.ndim != 3 or xa.shape[0] < batch_size:
            raise ShapeError(f"x has shape {xa.shape}: want [samples, steps, inputs] with at least {batch_size} samples")
        ya = None if y is None else _numeric(y, "y")
        if ya is not None and ya.shape[0] != xa.shape[0]:
            raise ShapeError(f"y has {ya.shape[0]} samples, x {xa.shape[0]}")

        def gen(epoch):
            order = np.arange(xa.shape[0])
            if shuffle:
                np.random.default_rng([seed, epoch]).shuffle(order)
            for i in range(xa.shape[0] // batch_size):
                idx = order[i * batch_size:(i + 1) * batch_size]
                xb = np.transpose(xa[idx], (1, 0, 2))  # [steps, batch, inputs]
                yb = None
                if ya is not None:
                    yb = ya[idx] if ya.ndim == 1 else np.transpose(ya[idx], (1, 0, 2))
                yield xb, yb

        return gen

    def save(self, path: str | os.PathLike) -> None:
        """Writes a checkpoint (network, state, optimizer, history) atomically."""
        meta = json.dumps({"spec": self.net.spec(), "history": self.history, "batch": self.batch})
        with self.net._lock:
            call("gle_trainer_save", self._h, cstr(path), meta.encode())

    @classmethod
    def resume(cls, path: str | os.PathLike, *, rule: str = "gle", float32: bool = False) -> "Trainer":
        """Continues a checkpoint written by save, bit for bit; the rule and
        precision must be the checkpoint's (MismatchError otherwise)."""
        hn, ht, meta = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_void_p()
        call("gle_trainer_load", cstr(path), rule.encode(), int(float32), b"", ctypes.byref(hn), ctypes.byref(ht), ctypes.byref(meta))
        saved = json.loads(_native._text(meta.value))
        t = cls.__new__(cls)
        Handle.__init__(t, ht.value)
        t.net = Network._from_handle(hn.value)
        t.batch, t.rule, t.float32 = saved["batch"], rule, float32
        t.history = saved.get("history", [])
        return t


class _Progress:
    """A progress display per epoch: tqdm when installed, else lines."""

    def __init__(self, total: int, enabled: bool | None):
        import sys
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.bar = None
        if self.enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="epoch")
            except ImportError:
                pass

    def update(self, rec: dict) -> None:
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{rec['loss']:.4g}")
            self.bar.update(1)
        else:
            import sys
            print(f"epoch {rec['epoch']}: loss {rec['loss']:.6g} ({rec['seconds']:.2f}s)", file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sequence(net: Network, x, y, what: str | None = None):
    """The C API's view of x and y; what names a call that needs targets."""
    if what is not None and (y is None or net.loss == "none"):
        raise SpecError(f"y: {what} needs targets and a loss (the network's loss is {net.loss!r}, "
                        f"y is {'missing' if y is None else 'given'})")
    xa = _inputs(x, net.inputs)
    T, B = xa.shape[:2]
    return (xa, T, B) + _targets(y, net.loss, T, B, net.outputs)


def grad(net: Network, x: Any, y: Any = None, *, method: str = "bptt") -> dict[str, np.ndarray]:
    """The gradient of J = Σ_t L_t over the sequence (from rest, the current
    parameters) for every parameter tensor, by method: "bptt" (exact),
    "tbptt:N" (truncated windows of N steps, summed), "adjoint" (the
    continuous adjoint λ, gradient of ∫ℓ dt), "rtrl" (exact, forward in
    time), "snap2" / "snap1" / "eprop" (RTRL's sparse approximations) or "gle" (GLE's
    local updates summed over the run). Keys are the tensor names of
    net.tensors."""
    xa, T, B, kind, yv, yc = _sequence(net, x, y, "grad")
    h, obj = ctypes.c_int64(), ctypes.c_double()
    with net._lock:
        call("gle_grad", net._h, method.encode(), ptr(xa), T, B, net.inputs, kind, ptr(yv), ptr(yc), ctypes.byref(h), ctypes.byref(obj))
    return bundle(h.value)


def align(net: Network, x: Any, y: Any = None, *, window: int | None = None,
          method: str = "gle", against: str = "bptt") -> list[dict]:
    """Cosine and norm ratio of one method's gradient against another's (by
    default GLE's summed local updates against the exact BPTT gradient),
    per tensor (and "all"), over the whole sequence (rows with window −1)
    and per window of `window` steps (default: the whole sequence only).
    Methods as for grad; docs/online.md says how each is split by time."""
    if window is not None and (not isinstance(window, (int, np.integer)) or isinstance(window, bool) or window <= 0):
        raise SpecError(f"window = {window!r}: want a positive number of steps (or None: the whole sequence)")
    xa, T, B, kind, yv, yc = _sequence(net, x, y, "align")
    with net._lock:
        return call_json("gle_align", net._h, ptr(xa), T, B, net.inputs, kind, ptr(yv), ptr(yc), int(window or T),
                         cstr(method), cstr(against))


def conformance(path: str | os.PathLike, *, float32: bool = False) -> dict[str, Any]:
    """Replays a reference trajectory file (format gle-reference-trajectory/1)
    and returns the largest relative errors max|a−b|/max(1,|b|):
    {"output": …, "params": …, "state": …} (and where they occurred)."""
    return call_json("gle_conformance", cstr(path), int(float32))


def _go_seconds(kind: str, obj: Handle, x: Any, y: Any, net: Network) -> float:
    """Seconds the Go API alone takes for the work of Network.simulate
    (kind "simulate") or Trainer.run ("run") on x and y: the reference for
    the binding's overhead."""
    xa, T, B, k, yv, yc = _sequence(net, x, y)
    s = ctypes.c_double()
    call("gle_go_time", kind.encode(), obj._h, ptr(xa), T, B, net.inputs, k, ptr(yv), ptr(yc), ctypes.byref(s))
    return s.value
