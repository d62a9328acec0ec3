"""LagLine from Python (GLE paper Fig. 5): a chain of two softplus neurons
learns the weights w and membrane time constants τm of a teacher chain
from the teacher's output alone, with GLE's local, real-time errors; then
GLE's errors ê are plotted against the exact adjoint λ on the same run.

    python lagline.py [--time 800] [--out DIR]
"""

import argparse
from pathlib import Path

import numpy as np

import gle

DT, BATCH, BETA = 0.01, 100, 0.01


def chain(w, tau_m, loss="mse", learn=True):
    layer = lambda i: {"in": 1, "out": 1, "phi": "softplus", "tau_m": tau_m[i], "tau_r": 0.1, "gamma": 1.0,
                       "weight": [[w[i]]], "bias": False, "learn_tau_m": learn}
    return {"dt": DT, "beta": BETA, "loss": loss, "tau_m_min": 10 * DT, "learn_from_step": int(50 / DT),
            "optimizer": {"kind": "adam", "lr": 1e-6 / BETA}, "layers": [layer(0), layer(1)]}


def square_wave(steps, rng):
    """±1 with half period 2 time units, each sample shifted, smoothed by a
    Gaussian of σ = 5 steps."""
    period = int(round(4 / DT))
    wave = np.where(np.arange(period) < period // 2, 1.0, -1.0)
    k = np.arange(-20, 21)
    kern = np.exp(-0.5 * (k / 5.0) ** 2)
    kern /= kern.sum()
    smooth = np.array([np.dot(kern, wave[(i + k) % period]) for i in range(period)])
    shift = rng.integers(0, period // 2, size=BATCH)
    t = np.arange(steps)[:, None] + shift[None, :]
    return smooth[t % period][:, :, None]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time", type=float, default=800, help="training time units after 50 of settling")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=".", help="folder for lagline.png")
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    steps = int(round((50 + a.time) / DT))
    x = square_wave(steps, rng)
    teacher = gle.Network(chain([1.0, 2.0], [1.0, 2.0], loss="none", learn=False))
    y = teacher.simulate(x)  # the teacher's output is the target
    w0, tau0 = rng.uniform(0, 1, 2), np.maximum(rng.uniform(0, 1, 2), 10 * DT)
    student = gle.Network(chain(w0, tau0))
    tr = gle.Trainer(student, batch=BATCH)
    chunk = 20000
    for start in range(0, steps, chunk):  # the state carries from chunk to chunk
        loss = tr.run(x[start:start + chunk], y[start:start + chunk])
    w = [student[f"layers.{i}.weight"].item() for i in range(2)]
    tau = [student[f"layers.{i}.tau_m"].item() for i in range(2)]
    print(f"after {a.time:g} time units: w = ({w[0]:.4f}, {w[1]:.4f}), τm = ({tau[0]:.4f}, {tau[1]:.4f}); "
          f"teacher w = (1, 2), τm = (1, 2); last loss {loss:.3g}")

    # GLE's ê against the adjoint λ, on a fresh student in the middle of learning.
    probe = gle.Network(chain([0.8, 1.5], [0.7, 1.4]))
    n = int(round(40 / DT))
    _, traces = probe.simulate(x[:n], y[:n], traces=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = np.arange(n) * DT
    fig, axes = plt.subplots(2, 1, figsize=(8, 5), sharex=True)
    for i, ax in enumerate(axes):
        ax.plot(t, traces[f"layers.{i}.ehat"][:, 0, 0], label="GLE ê (forward, real time)")
        ax.plot(t, traces[f"layers.{i}.lambda"][:, 0, 0], "--", label="adjoint λ (backward in time)")
        ax.set_ylabel(f"neuron {i + 1}")
        ax.legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("time")
    fig.suptitle("LagLine: GLE's errors follow the adjoint in phase")
    fig.tight_layout()
    out = Path(a.out) / "lagline.png"
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
