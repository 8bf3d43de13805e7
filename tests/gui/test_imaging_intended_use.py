"""The why panel on a series outside lesion_ct's intended use, in the real main window: no score by default, the
reason in words, and an override that asks first and marks every result."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from medstation.gui import ask
from tests.gui.conftest import open_in_why_panel
from tests.inference.test_intended_use import ANKLE, ankle_rendering

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(main_window, qtbot, tmp_path):
    return open_in_why_panel(main_window, qtbot, ankle_rendering(tmp_path / "render"))


def test_outside_intended_use_is_not_scored_and_says_why(panel, qtbot):
    assert panel.models.currentData() == "lesion_ct"
    assert panel.status.text().startswith(ANKLE[0].upper() + ANKLE[1:] + ": not scored. Checks: modality passed")
    assert "body part failed (Body Part Examined is ANKLE)" in panel.status.text()
    assert not panel.override_button.isHidden()
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    qtbot.wait(200)
    assert panel.result is None and len(panel.plot.curve.getData()[1] or []) == 0
    assert "not scored" in panel.status.text()


def test_override_asks_first_then_scores_and_marks_the_result(panel, qtbot, monkeypatch):
    asked = []
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: asked.append(text) or False)
    qtbot.mouseClick(panel.override_button, Qt.LeftButton)
    assert asked and asked[0].startswith(f"This series is {ANKLE}.") and panel.result is None
    monkeypatch.setattr(ask, "confirm", lambda parent, title, text: True)
    with qtbot.waitSignal(panel.explained, timeout=60000):
        qtbot.mouseClick(panel.override_button, Qt.LeftButton)
    assert panel.result.outside_use == ANKLE and len(panel.plot.curve.getData()[1]) == 1
    assert panel.explanation.outside_use == ANKLE
    assert panel.notice.text() == f"OUTSIDE INTENDED USE (run by explicit override): {ANKLE}."
    assert panel.status.text().startswith("OUTSIDE INTENDED USE. ")
    assert panel.why["label"].text().endswith(" - OUTSIDE INTENDED USE")
    assert np.isfinite(panel.result.best.score)
