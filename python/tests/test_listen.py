"""gle.listen: the shipped keyword model on a stream, from a path and from
an array, gives the detections `gle listen --json` prints; bad streams are
refused by name."""

import json
import shutil
import subprocess
import wave

import numpy as np
import pytest

import gle
from conftest import ROOT

WORDS = ["yes", "house", "no", "stop", "tree", "go"]


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """Six words spoken by espeak-ng (scripts/install-deps.sh installs it)
    with pauses, as `gle listen --demo` makes them: a 16 kHz WAV."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is needed (scripts/install-deps.sh installs it)")
    d = tmp_path_factory.mktemp("stream")
    parts = []
    for i, w in enumerate(WORDS):
        raw, part = d / f"raw{i}.wav", d / f"part{i}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), w], check=True)
        subprocess.run(["sox", "-R", "-V1", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(part), "pad", "0", "0.8"], check=True)
        parts.append(str(part))
    out = d / "stream.wav"
    subprocess.run(["sox", "-R", "-V1", *parts, str(out), "pad", "0.5", "0"], check=True)
    return out


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    exe = tmp_path_factory.mktemp("bin") / "gle"
    subprocess.run(["go", "build", "-o", str(exe), "./cmd/gle"], cwd=ROOT, check=True)
    return str(exe)


def samples(path):
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0


def test_listen_matches_the_command(stream, cli):
    out = subprocess.run([cli, "listen", "--json", str(stream)], check=True, capture_output=True, text=True).stdout
    want = [json.loads(line) for line in out.splitlines() if line.strip()]
    from_path = list(gle.listen(stream))
    from_array = list(gle.listen(samples(stream), chunk=0.03))
    assert len(want) >= 1, "the shipped model detected nothing in six spoken words"
    assert all(d["word"] in WORDS for d in want), want
    for got in (from_path, from_array):
        assert [d["word"] for d in got] == [d["word"] for d in want]
        np.testing.assert_allclose([d["time"] for d in got], [d["time"] for d in want], rtol=0, atol=1e-9)
        np.testing.assert_allclose([d["confidence"] for d in got], [d["confidence"] for d in want], rtol=1e-6)
    times = [d["time"] for d in want]
    assert times == sorted(times) and 0 < times[0] and times[-1] <= len(samples(stream)) / 16000


def test_listen_refuses_bad_streams(tmp_path):
    with pytest.raises(gle.ShapeError, match="1-D"):
        list(gle.listen(np.zeros((2, 100))))
    with pytest.raises(gle.SpecError, match="finite"):
        list(gle.listen(np.array([0.0, np.nan])))
    with pytest.raises(gle.SpecError, match="chunk"):
        list(gle.listen(np.zeros(100), chunk=0))
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(16000), w.writeframes(b"\0" * 400)
    with pytest.raises(gle.SpecError, match="2 channel"):
        list(gle.listen(stereo))
    with pytest.raises(FileNotFoundError, match="nope.safetensors"):
        list(gle.listen(np.zeros(100), model=tmp_path / "nope.safetensors"))
