from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "testdata" / "reference"


@pytest.fixture
def reference() -> Path:
    return REFERENCE


def small_spec(**over):
    spec = {"dt": 0.1, "loss": "mse", "seed": 3, "optimizer": {"kind": "adam", "lr": 0.01},
            "layers": [{"in": 1, "out": 8, "phi": "tanh", "tau_m": 1, "tau_r": 0.2},
                       {"in": 8, "out": 1, "tau_m": 0.5, "tau_r": 0.5}]}
    spec.update(over)
    return spec
