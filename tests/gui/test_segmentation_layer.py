"""The Segment panel and segmentation layer in the real main window: run a published bundle in the background,
open a SEG that references the series, legend figures, colours on screen, outlines, hidden labels, MPR, compare."""
from __future__ import annotations

import numpy as np
import pytest

from medstation.core.imaging import index
from medstation.core import trust
from medstation.inference import registry
from tests.inference import helpers
from tests.inference import monai_bundles as mb
from tests.inference.test_segmentation_io import two_label_seg

pytestmark = pytest.mark.gui


@pytest.fixture
def opened(main_window, qtbot, tmp_path):
    volume = mb.ct_volume(z=slice(20, 28))
    helpers.write_ct_series(tmp_path / "ct", list(volume.pixels))
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000) as loaded:
        main_window.open_paths([tmp_path / "ct"])
    return pane, loaded.args[0]



def test_opened_seg_is_drawn_with_legend_outline_and_hidden_labels(opened, qtbot, tmp_path, main_window):
    from medstation.services import segmentation as service

    pane, volume = opened
    seg = two_label_seg(volume)
    path = service.export_seg(seg, volume, tmp_path / "seg")
    index.index_paths([path])
    panel = pane.segment_panel
    panel.set_volume(volume)  # the panel lists the SEG objects that reference the series
    assert panel.derived.count() == 1 and panel.derived.itemText(0).startswith("SEG:")
    with qtbot.waitSignal(panel.segmented, timeout=30000):
        panel.open_selected()
    rows = panel.legend_rows()
    voxel_ml = np.prod(volume.spacing) / 1000
    mean_core = float(volume.pixels[seg.labels == 1].mean())
    assert rows[0] == ["lesion core", f"{6400 * voxel_ml:.2f}", f"{mean_core:.1f} HU", "-"]
    assert rows[1][0] == "oedema"
    pane.viewer.set_index(3)
    layer = panel.layer
    rgba = layer.rgba()
    colour = panel.results[0].colours[1]
    assert tuple(rgba[60, 70]) == (*colour, round(0.45 * 255)) and rgba[0, 0, 3] == 0
    panel.opacity.setValue(80)
    assert layer.rgba()[60, 70, 3] == round(0.8 * 255)
    panel.outline.setChecked(True)
    outlined = layer.rgba()
    assert outlined[40, 70, 3] == 255 and outlined[60, 70, 3] == 0  # boundary drawn, inside empty
    panel.outline.setChecked(False)
    panel.set_label_visible(1, False)
    assert layer.rgba()[60, 70, 3] == 0 and layer.rgba()[105, 110, 3] > 0
    panel.set_label_visible(1, True)
    # the label map follows the coronal reformat
    assert pane.set_mpr(True)
    coronal = panel.mpr_layers[0]
    labels = coronal.slice_labels()
    assert labels is not None and labels.shape == pane.mpr_viewers[0].slice_image().shape
    assert set(np.unique(labels)) <= {0, 1, 2}
    pane.viewer.grab().save(str(tmp_path / "seg.png"))


def test_segment_series_with_a_published_bundle_and_compare_two_results(opened, qtbot, tmp_path):
    from medstation.services import segmentation as service

    pane, volume = opened
    mb.install(mb.SPLEEN, bias={1: -0.05})
    trust.trust(registry.find(mb.SPLEEN))
    panel = pane.segment_panel
    panel.set_volume(volume)
    assert panel.models.findData("Spleen CT segmentation") >= 0 and panel.run_button.isEnabled()
    panel.models.setCurrentIndex(panel.models.findData("Spleen CT segmentation"))
    assert panel.status.text().startswith("Intended use not declared: modality checked only (modality passed: CT). ")
    assert panel.override_button.isHidden()
    assert pane.explain_panel.models.findData("Spleen CT segmentation") == -1  # segmentation models are not slice scorers
    with qtbot.waitSignal(panel.segmented, timeout=120000) as done:
        panel.run()
    seg = done.args[0]
    assert seg.model["model"] == "Spleen CT segmentation" and panel.legend_rows()[0][0] == "spleen"
    assert float(panel.legend_rows()[0][3]) >= 0.5  # mean probability of the voxels called spleen
    assert panel.explain_button.isEnabled()
    with qtbot.waitSignal(panel.explained, timeout=120000) as explained:
        panel.explain()
    why = explained.args[0]
    assert sorted(pane.viewer.heatmaps.maps) == list(range(volume.shape[0]))
    assert panel.why["label"].text() == "spleen" and panel.why["method"].text().startswith("Seg-Grad-CAM on ")
    assert panel.why["volume"].text() == f"{why.volume_ml:.2f} mL"
    assert panel.why["model"].text().startswith("Spleen CT segmentation 0.5.9 (sha256 ")
    panel.export_dicom(str(tmp_path / "export"))
    qtbot.waitUntil(lambda: panel.status.text().startswith("Wrote"), timeout=60000)
    assert (tmp_path / "export" / "segmentation.dcm").exists()
    assert (tmp_path / "export" / "gradcam_spleen.dcm").exists()
    other = two_label_seg(volume)
    path = service.export_seg(other, volume, tmp_path / "seg")
    index.index_paths([path])
    panel.set_volume(volume)
    panel.results.append(seg)
    panel.shown.addItem("spleen run")
    with qtbot.waitSignal(panel.segmented, timeout=30000):
        panel.open_selected()
    panel.compare.setCurrentIndex(1)
    panel._compare_changed()
    assert pane.compare_viewer.isVisible()
    assert panel.compare_layer.seg is panel.results[0] and panel.layer.seg is panel.results[-1]
    pane.viewer.set_index(4)
    assert pane.compare_viewer.index == 4
