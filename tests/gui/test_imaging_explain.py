"""The "why" panel in the real main window: a real CT series, scored in the background, its heat map over the
lesion slice, and the score plot that jumps to a slice when clicked."""
import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from tests.gui.conftest import open_in_why_panel
from tests.inference.helpers import held_out_examples, lung2_hu, write_ct_series

pytestmark = pytest.mark.gui
LESION_AT = 2


@pytest.fixture
def ct_series(tmp_path):
    _z, with_lesion, mask, lesion = held_out_examples(1, seed=31)[0]
    volume = lung2_hu()
    write_ct_series(tmp_path / "ct", [volume[34], volume[38], with_lesion, volume[46]])
    return tmp_path / "ct", mask, lesion


@pytest.fixture
def panel(main_window, qtbot, ct_series):
    """The Imaging pane's own "why" panel, on its tab, with the CT series loaded."""
    return open_in_why_panel(main_window, qtbot, ct_series[0])


def click_plot_at(qtbot, plot, slice_number):
    scene_pos = plot.plotItem.vb.mapViewToScene(QPointF(slice_number, 0.5))
    qtbot.mouseClick(plot.viewport(), Qt.LeftButton, pos=plot.mapFromScene(scene_pos))


def test_analysing_a_series_draws_scores_and_the_heat_map_on_the_lesion(panel, qtbot, ct_series):
    _folder, mask, lesion = ct_series
    assert panel.models.currentData() == "lesion_ct"
    assert "not for clinical use" in panel.notice.text()
    with qtbot.waitSignal(panel.explained, timeout=120000):  # the first run also loads torch and the model
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    scores = panel.plot.curve.getData()[1]
    assert len(scores) == 4 and int(np.argmax(scores)) == LESION_AT and scores[LESION_AT] >= 0.5
    why = panel.explanation
    assert why.index == LESION_AT and why.label == "lesion" and why.method == "gradcam"
    shown = panel.pane.viewer.heatmaps.maps[LESION_AT]
    assert shown.shape == (512, 512)
    row, col = np.unravel_index(int(np.argmax(shown)), shown.shape)
    assert np.hypot(row - lesion.row, col - lesion.col) < lesion.radius_mm / 0.627 + 15
    assert panel.why["probability"].text() == f"{why.probability:.3f}"
    assert panel.why["layer"].text() == "layer4 (refined by Layer-CAM on layer2)"
    assert panel.why["model"].text().startswith("lesion_ct 1.0.0")


def test_clicking_the_score_plot_jumps_to_the_slice_and_explains_it(panel, qtbot):
    with qtbot.waitSignal(panel.explained, timeout=60000):
        qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    panel.method.setCurrentIndex(panel.method.findData("gradcampp"))
    with qtbot.waitSignal(panel.explained, timeout=60000) as blocker:
        click_plot_at(qtbot, panel.plot, 1)
    assert panel.pane.current_index() == 0
    assert blocker.args[0].index == 0 and blocker.args[0].method == "gradcampp"
    assert panel.why["method"].text() == "Grad-CAM++"
    assert list(panel.pane.viewer.heatmaps.maps) == [0]


def test_card_link_opens_tools_models_on_the_card(panel, qtbot, main_window):
    from medstation.gui.dialogs.models import ModelsDialog

    panel.open_card("lesion_ct")
    dialog = main_window.findChildren(ModelsDialog)[-1]
    assert dialog.current().name == "lesion_ct"
    assert "not for clinical use" in dialog.card.toPlainText()
    dialog.close()


def test_the_panel_works_through_the_pane_and_stops_when_the_window_closes(panel, qtbot, main_window):
    pane = panel.pane
    qtbot.mouseClick(panel.run_button, Qt.LeftButton)
    [job] = pane.running("why")
    assert job.title == "Scoring series with lesion_ct"
    main_window.close()
    qtbot.waitUntil(lambda: not job.active, timeout=60000)
    assert job.ctx.cancelled
    panel.analyse()  # after closing, the panel starts nothing more and nothing lands on the viewer
    assert not pane.running() and not main_window.ctx.jobs.jobs
    assert not pane.viewer.heatmaps.maps and panel.explanation is None
