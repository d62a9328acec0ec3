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
    "Network", "Trainer", "grad", "align", "conformance", "listen", "data",
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
        arr = _class_labels(arr, n_out)
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


def _flag(v: Any, name: str) -> None:
    """Refuses a flag that is not a bool, naming it."""
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} = {v!r}: want True or False")


def _count(v: Any, name: str, *, zero: bool = False) -> int:
    """A positive (or, with zero, non-negative) integer, or SpecError naming it."""
    if not isinstance(v, (int, np.integer)) or isinstance(v, (bool, np.bool_)) or v < (0 if zero else 1):
        raise SpecError(f"{name} = {v!r}: want a {'non-negative' if zero else 'positive'} integer")
    return int(v)


def _class_labels(arr: np.ndarray, n_out: int) -> np.ndarray:
    """Class labels as C-contiguous int64, checked: whole numbers in 0…n_out−1."""
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise SpecError("y: class labels must be whole numbers")
    if arr.size and (arr.min() < 0 or arr.max() >= n_out):
        raise SpecError(f"y: class labels must be in 0…{n_out - 1}, have {arr.min():g}…{arr.max():g}")
    return np.ascontiguousarray(arr, dtype=np.int64)


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

    def save(self, path: str | os.PathLike, *, force: bool = False) -> None:
        """Writes the network in the format of path's extension: .safetensors
        (the parameters, the spec's structure in the metadata) or a spec file
        with the parameters (.json, .yaml, .yml); `Network(path)` reads
        either back. Another extension is refused, and so is a file that
        exists unless force=True (as the CLI's --force)."""
        _flag(force, "force")
        with self._lock:
            call("gle_network_save", self._h, cstr(path), int(force))

    def simulate(self, x: Any, y: Any = None, *, traces: bool = False):
        """Runs the network on x from rest, without learning.

        Returns the outputs [steps, batch, outputs] — the output population's
        rate before each step (the reference's one-step lag) — and, with
        traces=True, also a dict of per-step arrays [steps, batch, N] per
        population: PREFIX.u, .r, .ehat (GLE's ê), .r_prime (φ′), and
        .lambda (the adjoint λ, for networks without loops). Targets y only
        drive the errors.
        """
        _flag(traces, "traces")
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
    spec's optimizer (SGD or Adam), τm bounded by tau_m_min (default dt)
    and tau_m_max, learning from learn_from_step on.

    The state carries over from call to call (reset() starts from rest);
    float32=True runs the float32 engine (GLE's rule only); threads=N
    splits every step over N threads (default: every core the process may
    use; the results are the same for any number). A divergence
    (DivergedError) is caught before an update is applied: the parameters
    keep their last finite values and reset() continues from them.
    """

    def __init__(self, net: Network, batch: int = 1, *, rule: str = "gle", float32: bool = False,
                 threads: int | None = None):
        if not isinstance(net, Network):
            raise TypeError(f"net is a {type(net).__name__}: want a gle.Network")
        batch = _count(batch, "batch")
        if threads is not None:
            threads = _count(threads, "threads")
        _flag(float32, "float32")
        if not isinstance(rule, str):
            raise TypeError(f"rule = {rule!r}: want a string such as 'gle' or 'tbptt:100'")
        h = ctypes.c_int64()
        call("gle_trainer_new", net._h, batch, rule.encode(), int(float32), ctypes.byref(h))
        super().__init__(h.value)
        if threads is not None:
            call("gle_trainer_set_threads", self._h, threads)
        self.net, self.batch, self.rule, self.float32 = net, batch, rule, float32
        self.history: list[dict] = []

    @property
    def lr(self) -> float:
        """The optimizer's learning rate (finite, ≥ 0)."""
        with self.net._lock:
            return call_json("gle_trainer_info", self._h)["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise TypeError(f"lr = {value!r}: want a number")
        if not (np.isfinite(value) and value >= 0):
            raise SpecError(f"lr = {value!r}: must be finite and ≥ 0")
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
        _flag(outputs, "outputs")
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
            seed: int = 0, reset: bool = False, val: tuple | None = None, schedule: str | None = None,
            log_every: int = 0, run_dir: str | os.PathLike | None = None, resume: bool = False, force: bool = False,
            figures: bool = False, callback: Callable[[dict], Any] | None = None,
            progress: bool | None = None) -> list[dict]:
        """Trains for a number of epochs with the library's run driver (the
        loop of `gle train`) and returns the history: one record per epoch
        (epoch, train_loss, train_acc for class labels, val_loss/val_acc
        with val, lr, seconds, tau_m), also kept in self.history. Each call
        is a run of its own (a new schedule), its epochs numbered on from
        the history's; with run_dir the history is the folder's run.

        Without batch_size, x is one sequence [steps, batch, inputs] fed
        once per epoch, the state carried over (reset=True: from rest every
        epoch). With batch_size (= the trainer's batch), x is a set of
        sequences [samples, steps, inputs] (or [samples, steps] for one
        input) with labels y [samples] or targets [samples, steps, ...],
        drawn in mini-batches (shuffled every epoch from seed, or in order).
        val = (x_val, y_val) in the same layout is evaluated after every
        epoch from rest. schedule: "plateau[:FACTOR[:PATIENCE]]",
        "step:EVERY[:GAMMA]", "cosine[:MIN]" (on the validation loss, or
        the training loss without val). run_dir writes the run folder of
        `gle train` (metrics, checkpoint, outputs; figures=True draws
        them): a run started here continues with `gle train --resume
        --run-dir DIR` and a CLI run with resume=True here, bit for bit.
        Ctrl-C stops after the current step (with run_dir the checkpoint
        holds every step taken) and raises KeyboardInterrupt.
        callback(record) runs after every epoch; progress shows a bar (tqdm
        when installed, plain lines otherwise; default: on when stderr is a
        terminal).
        """
        epochs = _count(epochs, "epochs")
        seed, log_every = _count(seed, "seed", zero=True), _count(log_every, "log_every", zero=True)
        for v, name in ((shuffle, "shuffle"), (reset, "reset"), (resume, "resume"), (force, "force"), (figures, "figures")):
            _flag(v, name)
        if schedule is not None and not isinstance(schedule, str):
            raise TypeError(f"schedule = {schedule!r}: want a string such as 'plateau' or 'cosine'")
        if batch_size is not None:
            batch_size = _count(batch_size, "batch_size")
            if batch_size != self.batch:
                raise SpecError(f"batch_size = {batch_size}: the trainer's batch is {self.batch}")
        train = self._dataset(x, y, batch_size is not None, "x")
        valset = None
        if val is not None:
            if not isinstance(val, tuple) or len(val) != 2:
                raise TypeError(f"val is a {type(val).__name__}: want a tuple (x_val, y_val)")
            valset = self._dataset(val[0], val[1], batch_size is not None, "val")
        settings = {"epochs": epochs, "batch_size": batch_size or 0, "seed": seed, "reset": reset, "log_every": log_every,
                    "schedule": schedule or "none", "order": "shuffled" if (batch_size and shuffle) else "in-order",
                    "run_dir": os.fspath(run_dir) if run_dir is not None else "", "resume": resume, "force": force,
                    "figures": figures}
        bar = _Progress(epochs, progress)
        errors: list[BaseException] = []
        before = list(self.history)
        offset = before[-1]["epoch"] if before else 0

        def on_event(text: bytes) -> None:
            try:
                ev = json.loads(text)
                if ev["kind"] == "record":
                    rec = ev["record"]
                    if rec.get("step"):
                        return
                    if run_dir is None:  # numbered on from the history's epochs
                        rec = dict(rec, epoch=rec["epoch"] + offset)
                    self.history.append(rec)
                    bar.update(rec)
                    if callback is not None:
                        callback(rec)
                elif ev["kind"] == "progress":
                    bar.progress(ev)
                elif ev["kind"] == "warning":
                    import warnings
                    warnings.warn(ev["message"], RuntimeWarning, stacklevel=2)
            except BaseException as e:  # raised after the run, not inside Go
                errors.append(e)

        events = _native.EVENTS(on_event)
        out = ctypes.c_void_p()

        def go(stop):
            with self.net._lock:
                call("gle_fit", self._h, train._h, valset._h if valset is not None else 0, json.dumps(settings).encode(),
                     ctypes.cast(events, ctypes.c_void_p), ctypes.byref(stop), ctypes.byref(out))
            return json.loads(_native._text(out.value))

        try:
            res = self._interruptible(go)
        finally:
            bar.close()
        if errors:
            raise errors[0]
        records = [r for r in res["records"] if not r.get("step")]
        if run_dir is not None:
            self.history = records  # the run folder's whole run
        else:  # a run of its own: its epochs continue the history's
            self.history = before + [dict(r, epoch=r["epoch"] + offset) for r in records]
        return self.history

    def _dataset(self, x: Any, y: Any, is_set: bool, name: str) -> Handle:
        """A Go data source of x and y: one sequence, or a set of samples."""
        n = self.net
        if not is_set:
            xa = _inputs(x, n.inputs)
            T, B = xa.shape[:2]
            if B != self.batch:
                raise ShapeError(f"{name} has a batch of {B}, the trainer's is {self.batch}")
            kind, yv, yc = _targets(y, n.loss, T, B, n.outputs)
            if kind == 2 and yc is not None and np.ndim(y) == 1:
                kind, yc = 3, np.ascontiguousarray(yc[0])
            dims = (T, B, n.inputs)
            k = 0
        else:
            xa = _numeric(x, name)
            if xa.ndim == 2 and n.inputs == 1:
                xa = xa[:, :, None]
            if xa.ndim != 3 or xa.shape[2] != n.inputs or xa.shape[0] < self.batch or xa.shape[1] == 0:
                raise ShapeError(f"{name} has shape {xa.shape}: want [samples, steps, {n.inputs}] with at least {self.batch} samples")
            xa = np.ascontiguousarray(xa, dtype=np.float64)
            if not np.all(np.isfinite(xa)):
                raise SpecError(f"{name}: inputs must be finite")
            N, T = xa.shape[:2]
            kind, yv, yc = 0, None, None
            if y is not None:
                ya = _numeric(y, name + " targets")
                if ya.shape[:1] != (N,):
                    raise ShapeError(f"{name}: the targets have shape {ya.shape}, x {N} samples")
                if n.loss == "ce":
                    yc = _class_labels(ya, n.outputs)
                    if ya.shape not in ((N,), (N, T)):
                        raise ShapeError(f"{name}: class labels have shape {ya.shape}: want [{N}] or [{N}, {T}]")
                    kind = 3 if ya.ndim == 1 else 2
                elif n.loss == "mse":
                    if ya.ndim == 2 and n.outputs == 1:
                        ya = ya[:, :, None]
                    if ya.shape != (N, T, n.outputs):
                        raise ShapeError(f"{name}: targets have shape {ya.shape}: want [{N}, {T}, {n.outputs}]")
                    kind, yv = 1, np.ascontiguousarray(ya, dtype=np.float64)
                    if not np.all(np.isfinite(yv)):
                        raise SpecError(f"{name}: targets must be finite")
                else:
                    raise SpecError(f"{name}: the network's loss is none: it takes no targets")
            dims = (N, T, n.inputs)
            k = 1
        h = ctypes.c_int64()
        call("gle_dataset_new", n._h, k, ptr(xa), *dims, kind, ptr(yv), ptr(yc), ctypes.byref(h))
        return Handle(h.value)

    def save(self, path: str | os.PathLike) -> None:
        """Writes a checkpoint (network, state, optimizer, spec, history)
        atomically, in the format of the run driver's checkpoints."""
        with self.net._lock:
            call("gle_trainer_save", self._h, cstr(path), json.dumps(self.history).encode())

    @classmethod
    def resume(cls, path: str | os.PathLike, *, rule: str = "gle", float32: bool = False) -> "Trainer":
        """Continues a checkpoint — of save, of fit(run_dir=…) or of `gle
        train` — bit for bit; the rule and precision must be the
        checkpoint's (MismatchError otherwise)."""
        _flag(float32, "float32")
        hn, ht, hist = ctypes.c_int64(), ctypes.c_int64(), ctypes.c_void_p()
        call("gle_trainer_load", cstr(path), rule.encode(), int(float32), ctypes.byref(hn), ctypes.byref(ht), ctypes.byref(hist))
        t = cls.__new__(cls)
        Handle.__init__(t, ht.value)
        t.net = Network._from_handle(hn.value)
        t.rule, t.float32 = rule, float32
        t.batch = call_json("gle_trainer_info", t._h)["batch"]
        t.history = [r for r in (json.loads(_native._text(hist.value)) or []) if not r.get("step")]
        return t


class _Progress:
    """A progress display: tqdm when installed, else a line per epoch."""

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
            self.bar.set_postfix(loss=f"{rec.get('train_loss', float('nan')):.4g}")
            self.bar.update(1)
        else:
            import sys
            parts = [f"{k} {rec[k]:.6g}" for k in ("train_loss", "train_acc", "val_loss", "val_acc") if k in rec]
            print(f"epoch {rec['epoch']}: {', '.join(parts)} ({rec.get('seconds', 0):.3g} s)", file=sys.stderr)

    def progress(self, ev: dict) -> None:
        if self.bar is not None:
            self.bar.set_description(f"epoch {ev['epoch']} {100 * ev['fraction']:.0f}%")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _sequence(net: Network, x, y):
    """The C API's view of x and y (the Go side checks what a method needs)."""
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
    xa, T, B, kind, yv, yc = _sequence(net, x, y)
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
    if window is not None:
        window = _count(window, "window")
    xa, T, B, kind, yv, yc = _sequence(net, x, y)
    with net._lock:
        return call_json("gle_align", net._h, ptr(xa), T, B, net.inputs, kind, ptr(yv), ptr(yc), int(window or T),
                         cstr(method), cstr(against))


def listen(stream: Any, model: str | os.PathLike | None = None, *, chunk: float = 0.5):
    """Spots keywords in a continuous stream with a GLE network and yields
    each detection as it happens: {"word", "time" (seconds from the
    stream's start), "confidence"}.

    stream: the path of a WAV file (16-bit PCM mono, 16 kHz; read a chunk
    at a time, any length) or an array of samples at 16 kHz (in [−1, 1)).
    model: a keyword model written by `gle run listen-train`; the shipped
    model by default. The state carries over the whole stream (docs/listen.md)."""
    if isinstance(chunk, bool) or not isinstance(chunk, (int, float)) or not chunk > 0:
        raise SpecError(f"chunk = {chunk!r}: want a positive number of seconds")
    h = ctypes.c_int64()
    call("gle_listen_new", cstr(model) if model is not None else b"", ctypes.byref(h))
    handle = Handle(h.value)
    n = max(1, int(chunk * 16000))

    def push(samples: np.ndarray):
        a = np.ascontiguousarray(samples, dtype=np.float64)
        if not np.all(np.isfinite(a)):
            raise SpecError("stream: samples must be finite")
        return call_json("gle_listen_push", handle._h, ptr(a), a.size)

    if isinstance(stream, (str, os.PathLike)):
        import wave
        with wave.open(os.fspath(stream), "rb") as w:
            if w.getnchannels() != 1 or w.getsampwidth() != 2 or w.getframerate() != 16000:
                raise SpecError(f"{stream}: {w.getnchannels()} channel(s), {8 * w.getsampwidth()} bits, {w.getframerate()} Hz: "
                                "a stream must be 16-bit PCM mono at 16 kHz")
            while True:
                raw = w.readframes(n)
                if not raw:
                    break
                yield from push(np.frombuffer(raw, dtype="<i2") / 32768.0)
        return
    a = _numeric(stream, "stream")
    if a.ndim != 1:
        raise ShapeError(f"stream has shape {a.shape}: want a 1-D array of samples at 16 kHz")
    for i in range(0, a.size, n):
        yield from push(a[i:i + n])


def conformance(path: str | os.PathLike, *, float32: bool = False) -> dict[str, Any]:
    """Replays a reference trajectory file (format gle-reference-trajectory/1)
    and checks every recorded variable against its own scale (its largest
    |value| in the file): {"ok": all within tolerance, "vars": {name:
    {"error", "scale", "tolerance"}}, and the §6 measure per group
    max|a−b|/max(1,|b|) "output", "params", "state" (and where)}. The
    tolerance is 1e-9, or per kind for float32=True (as `gle conformance`)."""
    _flag(float32, "float32")
    return call_json("gle_conformance", cstr(path), int(float32))


def _go_seconds(kind: str, obj: Handle, x: Any, y: Any, net: Network) -> float:
    """Seconds the Go API alone takes for the work of Network.simulate
    (kind "simulate") or Trainer.run ("run") on x and y: the reference for
    the binding's overhead."""
    xa, T, B, k, yv, yc = _sequence(net, x, y)
    s = ctypes.c_double()
    call("gle_go_time", kind.encode(), obj._h, ptr(xa), T, B, net.inputs, k, ptr(yv), ptr(yc), ctypes.byref(s))
    return s.value
