"""The reference fixtures and the MNIST-1D generator, through Python."""

import json

import numpy as np
import pytest

import gle


FIXTURES = ["lagline", "mlp_adam_tau", "mlp_ce_gle", "mlp_mse_le"]


def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b)) / np.maximum(1, np.abs(np.asarray(b)))))


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_replayed_through_python(reference, name):
    """Every shared trajectory fixture, replayed through the Python API
    (Network + Trainer.run over NumPy arrays), matches outputs, final
    parameters and final state to 1e-9."""
    f = json.loads((reference / "trajectories" / f"{name}.json").read_text())
    net = gle.Network(f["spec"])
    x = np.array(f["inputs"])
    y = None if f["targets"] is None else np.array(f["targets"])
    tr = gle.Trainer(net, batch=x.shape[1])
    _, out = tr.run(x, y, outputs=True)
    errors = {"output": rel(out, f["expected"]["output"])}
    params = net.parameters()
    state = tr.state()
    errors["params"] = max(
        rel(params[f"layers.{i}.{k}"], p[key]) for i, p in enumerate(f["expected"]["final_params"])
        for k, key in [("weight", "weight"), ("bias", "bias"), ("tau_m", "tau_m")] if p[key] is not None)
    errors["state"] = max(
        rel(state[f"layers.{i}.{k}"], s[k]) for i, s in enumerate(f["expected"]["final_state"])
        for k in ["u", "v", "r", "r_prime", "e_bottom"])
    print(name, errors)
    assert max(errors.values()) <= 1e-9, errors


@pytest.mark.parametrize("name", FIXTURES)
def test_conformance(reference, name):
    rep = gle.conformance(reference / "trajectories" / f"{name}.json")
    assert rep["ok"] and max(v["error"] for v in rep["vars"].values()) <= 1e-9, rep
    assert max(rep["output"], rep["params"], rep["state"]) <= 1e-9, rep
    assert {"output", "layers.0.u", "layers.0.v", "layers.0.e_bottom"} <= set(rep["vars"]), rep["vars"].keys()
    rep32 = gle.conformance(reference / "trajectories" / f"{name}.json", float32=True)
    assert rep32["ok"] and all(v["error"] <= v["tolerance"] for v in rep32["vars"].values()), rep32


def test_mnist1d_is_canonical(reference):
    want = np.load(reference / "mnist1d_len40_seed42.npz")
    got = gle.data.mnist1d(seed=42, length=40)
    for k in ["x", "y", "x_test", "y_test", "t", "templates_x", "templates_t"]:
        assert got[k].shape == want[k].shape, k
        assert np.max(np.abs(got[k] - want[k])) <= 1e-12, k
    head = np.load(reference / "mnist1d_len360_seed42_head.npz")
    long = gle.data.mnist1d(length=360)
    n = head["x"].shape[0]
    assert np.max(np.abs(long["x"][:n] - head["x"])) <= 1e-12
    assert np.array_equal(long["y"][:n], head["y"])


def test_logmel_matches_reference(reference):
    ref = json.loads((reference / "melspec_yes.json").read_text())
    for name, case in ref["cases"].items():
        p = case["params"]
        got = gle.data.logmel(reference / "yes_16k.wav", n_fft=p["n_fft"], hop=p["hop_length"], n_mels=p["n_mels"],
                              f_min=p["f_min"], f_max=p["f_max"] or 0.0)
        want = np.array(case["log_mel"])
        assert got.shape == want.shape, name
        assert np.max(np.abs(got - want) / np.maximum(1, np.abs(want))) <= 1e-6, name
