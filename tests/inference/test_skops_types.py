"""A skops model file that names a callable outside the exact trusted types is refused before anything runs."""
from __future__ import annotations

import pytest

from medstation.core.errors import MedStationError
from tests.conftest import REPO


def _malicious(path):
    import numpy.testing._private.utils as utils
    import skops.io as sio

    # a real skops file whose state holds a function that would execute a string of code when called by a loader
    sio.dump({"vectorizer": utils.runstring, "models": {}}, path)
    assert "numpy.testing._private.utils.runstring" in sio.get_untrusted_types(file=str(path))
    return path


def test_notes_classifier_refuses_a_file_naming_runstring(tmp_path):
    from medstation.inference.notes.classifier import FindingsClassifier

    with pytest.raises(MedStationError, match="numpy.testing._private.utils.runstring"):
        FindingsClassifier.load_file(_malicious(tmp_path / "evil.skops"))


def test_validity_model_refuses_a_file_naming_runstring(tmp_path):
    from medstation.inference.genomics.validity import load_file

    with pytest.raises(MedStationError, match="does not trust .*runstring"):
        load_file(_malicious(tmp_path / "evil.skops"))


def test_the_shipped_skops_models_load_with_their_exact_lists():
    from medstation.inference.genomics.validity import load_file
    from medstation.inference.notes.classifier import FindingsClassifier

    assert hasattr(load_file(REPO / "models" / "variant_validity" / "models" / "model.skops"), "predict_proba")
    model = FindingsClassifier.load_file(REPO / "models" / "notes_findings" / "models" / "model.skops")
    assert model.labels
