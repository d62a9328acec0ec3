"""A run started in Python continues from the command line, and back, bit
for bit: Trainer.fit(run_dir=…) and `gle train` share one run driver and
one run folder (checkpoint, metrics, outputs)."""

import json
import shutil
import subprocess

import numpy as np
import pytest

import gle
from conftest import ROOT

SPEC = """dt: 0.1
loss: mse
seed: 3
optimizer: {kind: adam, lr: 0.01}
layers:
  - {in: 1, out: 8, phi: tanh, tau_m: 1, tau_r: 0.2, learn_tau_m: true}
  - {in: 8, out: 1, tau_m: 0.5, tau_r: 0.5}
"""


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """The gle command, built from this checkout."""
    if shutil.which("go") is None:
        pytest.fail("go is needed to build the gle command")
    exe = tmp_path_factory.mktemp("bin") / "gle"
    subprocess.run(["go", "build", "-o", str(exe), "./cmd/gle"], cwd=ROOT, check=True)
    return str(exe)


def records(folder):
    out = []
    for line in open(folder / "metrics.jsonl"):
        r = json.loads(line)
        r.pop("seconds", None)
        out.append(r)
    return out


def same_run(a, b):
    assert records(a) == records(b)
    A, B = np.load(a / "out.npz"), np.load(b / "out.npz")
    assert sorted(A) == sorted(B)
    for k in B:
        assert np.array_equal(A[k], B[k]), k
    assert json.load(open(a / "learned.json")) == json.load(open(b / "learned.json"))


def test_python_and_cli_resume_each_other(tmp_path, cli):
    spec, data = tmp_path / "s.yaml", tmp_path / "d.npz"
    spec.write_text(SPEC)
    t = np.arange(300) * 0.1
    x = np.stack([np.sin(t + p) for p in (0, 1, 2)], 1)[:, :, None]
    y = 0.5 * np.roll(x, 5, axis=0)
    np.savez(data, x=x, y=y)
    train = [cli, "train", "--spec", str(spec), "--data", str(data), "--figures=false", "--run-dir"]
    subprocess.run(train + [str(tmp_path / "clean"), "--epochs", "6"], check=True, capture_output=True)

    # Started in Python, continued by the CLI.
    gle.Trainer(gle.Network(str(spec)), batch=3).fit(x, y, epochs=3, run_dir=tmp_path / "py", progress=False)
    assert len(records(tmp_path / "py")) == 3
    subprocess.run(train + [str(tmp_path / "py"), "--epochs", "6", "--resume"], check=True, capture_output=True)
    same_run(tmp_path / "py", tmp_path / "clean")

    # Started by the CLI, continued in Python.
    subprocess.run(train + [str(tmp_path / "cli"), "--epochs", "3"], check=True, capture_output=True)
    tr = gle.Trainer(gle.Network(str(spec)), batch=3)
    hist = tr.fit(x, y, epochs=6, run_dir=tmp_path / "cli", resume=True, progress=False)
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4, 5, 6]
    same_run(tmp_path / "cli", tmp_path / "clean")
    assert np.array_equal(tr.net["layers.0.weight"], np.load(tmp_path / "clean" / "out.npz")["layers.0.weight"])

    # A changed run is refused, each difference named once.
    other = tmp_path / "other.yaml"
    other.write_text(SPEC.replace("lr: 0.01", "lr: 0.02"))
    with pytest.raises(gle.MismatchError) as e:
        gle.Trainer(gle.Network(str(other)), batch=3).fit(x, y, epochs=7, run_dir=tmp_path / "cli", resume=True, progress=False)
    assert str(e.value).count("spec.optimizer.lr: checkpoint 0.01, now 0.02") == 1
