"""What a user of the Python front door runs into: divergence, missing
targets, wrong flag types, saving, and every setter's validation."""

import numpy as np
import pytest

import gle
from conftest import small_spec


def loop_spec():
    # A linear recurrent population of 4 with a self-loop of weight 3 (τm
    # 1, τr 0.1: gain ρ(W)·τm/τr = 30, far beyond the limit 1), SGD with
    # lr 0: it diverges at step 202.
    return {"dt": 0.1, "loss": "mse", "seed": 1, "optimizer": {"kind": "sgd", "lr": 0},
            "inputs": 1, "output": "out",
            "populations": [{"name": "h", "size": 4, "phi": "linear", "tau_m": 1, "tau_r": 0.1},
                            {"name": "out", "size": 1, "tau_m": 1, "tau_r": 1}],
            "projections": [{"from": "input", "to": "h"},
                            {"from": "h", "to": "h", "weight": (3 * np.eye(4)).tolist()},
                            {"from": "h", "to": "out"}]}


def test_divergence_keeps_the_parameters(tmp_path):
    net = gle.Network(loop_spec())
    before = net.parameters()
    tr = gle.Trainer(net, batch=1)
    x = np.ones((2000, 1, 1))
    with pytest.raises(gle.DivergedError) as e:
        tr.run(x, 0.5 * x)
    msg = str(e.value)
    assert msg.startswith("step 202: diverged: ") and "loop h has gain ρ(W)·τm/τr = 30" in msg and "(limit 1)" in msg
    for k, v in net.parameters().items():  # lr 0: nothing may change, NaN least of all
        assert np.array_equal(v, before[k]), k
    net.save(tmp_path / "net.safetensors")
    tr.reset()
    loss = tr.run(x[:20], 0.5 * x[:20])  # from rest: finite again
    assert np.isfinite(loss)
    assert np.isfinite(gle.Trainer(net, batch=1).run(x[:20], 0.5 * x[:20]))


def test_fit_without_targets_is_refused():
    x = np.sin(0.1 * np.arange(50))[:, None, None]
    tr = gle.Trainer(gle.Network(small_spec()), batch=1)
    before = tr.net.parameters()
    with pytest.raises(gle.SpecError, match="no targets"):
        tr.fit(x, None, epochs=2, progress=False)
    for k, v in tr.net.parameters().items():
        assert np.array_equal(v, before[k]), k
    with pytest.raises(gle.SpecError, match="a gradient needs targets"):
        gle.grad(tr.net, x)


def test_flags_are_checked():
    net = gle.Network(small_spec())
    x = np.zeros((5, 1, 1))
    with pytest.raises(TypeError, match="traces = 'yes': want True or False"):
        net.simulate(x, traces="yes")
    tr = gle.Trainer(net)
    with pytest.raises(TypeError, match="outputs = 1: want True or False"):
        tr.run(x, x, outputs=1)
    with pytest.raises(gle.SpecError, match="epochs = 0"):
        tr.fit(x, x, epochs=0)
    with pytest.raises(gle.SpecError, match="log_every = -1"):
        tr.fit(x, x, log_every=-1)
    with pytest.raises(gle.SpecError, match="schedule = bogus"):
        tr.fit(x, x, schedule="bogus", progress=False)
    with pytest.raises(gle.SpecError, match="window = 5000: want 1…5 steps"):
        gle.align(net, x, x, window=5000)


@pytest.mark.parametrize("value, error, match", [
    (float("nan"), gle.SpecError, "lr = nan: must be finite and ≥ 0"),
    (float("inf"), gle.SpecError, "lr = inf"),
    (-1e-3, gle.SpecError, "lr = -0.001"),
    ("0.1", TypeError, "lr = '0.1': want a number"),
    (True, TypeError, "lr = True: want a number"),
])
def test_lr_setter(value, error, match):
    tr = gle.Trainer(gle.Network(small_spec()))
    with pytest.raises(error, match=match):
        tr.lr = value
    assert tr.lr == 0.01  # unchanged
    tr.lr = 0.5
    assert tr.lr == 0.5


def test_go_checks_lr_too():
    # The C boundary refuses what Python would have (a caller of libgle
    # without this package).
    from gle._native import call
    tr = gle.Trainer(gle.Network(small_spec()))
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(gle.SpecError, match="lr = "):
            call("gle_trainer_set_lr", tr._h, bad)
    call("gle_trainer_set_lr", tr._h, 0.25)
    assert tr.lr == 0.25


def test_param_setter_keeps_old_values():
    net = gle.Network(small_spec())
    w = net["layers.0.weight"]
    bad = w.copy()
    bad[0, 0] = np.nan
    with pytest.raises(gle.SpecError, match=r"layers.0.weight\[0\] = NaN: must be finite"):
        net["layers.0.weight"] = bad
    assert np.array_equal(net["layers.0.weight"], w)
    with pytest.raises(gle.SpecError, match=r"layers.0.tau_m\[0\] = 0.01: must be finite and ≥ dt"):
        net["layers.0.tau_m"] = np.full(8, 0.01)
    with pytest.raises(gle.ShapeError):
        net["layers.0.weight"] = np.zeros((2, 2))


def test_save_by_extension_and_never_over_a_file(tmp_path):
    net = gle.Network(small_spec())
    for name in ("n.safetensors", "n.json", "n.yaml"):
        net.save(tmp_path / name)
        back = gle.Network(tmp_path / name)
        for k, v in net.parameters().items():
            assert np.array_equal(back[k], v), (name, k)
    with pytest.raises(FileExistsError, match="exists"):
        net.save(tmp_path / "n.safetensors")
    net.save(tmp_path / "n.safetensors", force=True)
    with pytest.raises(gle.SpecError, match="want a .json, .yaml, .yml or .safetensors file"):
        net.save(tmp_path / "foo.txt")
    assert not (tmp_path / "foo.txt").exists()


def test_resume_refusal_names_each_difference_once(tmp_path):
    tr = gle.Trainer(gle.Network(small_spec()))
    x = np.sin(0.1 * np.arange(30))[:, None, None]
    tr.fit(x, x, epochs=1, progress=False)
    tr.save(tmp_path / "ck.gob")
    with pytest.raises(gle.MismatchError) as e:
        gle.Trainer.resume(tmp_path / "ck.gob", rule="tbptt:5")
    assert str(e.value).count("rule: checkpoint gle, now tbptt:5") == 1


def test_threads_give_the_same_results():
    x = np.sin(0.1 * np.arange(200))[:, None, None]
    nets = []
    for threads in (1, 2, 3):
        tr = gle.Trainer(gle.Network(small_spec()), threads=threads)
        tr.fit(x, 0.5 * x, epochs=2, progress=False)
        nets.append(tr.net)
    for k in nets[0].tensors:
        assert np.array_equal(nets[0][k], nets[1][k]) and np.array_equal(nets[0][k], nets[2][k]), k
    with pytest.raises(gle.SpecError, match="threads = 0"):
        gle.Trainer(gle.Network(small_spec()), threads=0)
