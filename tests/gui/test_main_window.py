"""The real main window, driven with pytest-qt."""
from __future__ import annotations

import time

import pytest
from pydicom.data import get_testdata_file
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from medstation.core import audit
from medstation.core.errors import MedStationError
from medstation.gui import panes as registry

pytestmark = pytest.mark.gui


def test_every_pane_is_reachable(main_window, qtbot):
    for index, key in enumerate(registry.ids()):
        main_window.tabs.setCurrentIndex(index)
        pane = main_window.panes[key]
        assert pane.key == key
        assert pane.isVisible()
    assert [main_window.tabs.tabText(i) for i in range(4)] == ["Imaging", "Notes", "Genomics", "Resources"]


def test_a_dropped_dicom_folder_reaches_the_imaging_pane(main_window, qtbot, tmp_path):
    import shutil

    study = tmp_path / "cd"
    study.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), study / "IM0001")
    main_window.show_pane("genomics")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(study))])
    centre = main_window.rect().center()
    enter = QDragEnterEvent(centre, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(main_window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(centre), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    with qtbot.waitSignal(main_window.pane_opened, timeout=5000) as blocker:
        QApplication.sendEvent(main_window, drop)
    assert blocker.args == ["imaging"]
    assert main_window.current_pane_key() == "imaging"
    assert study in main_window.panes["imaging"].sources
    assert main_window.ctx.settings.recent()[0]["path"] == str(study.resolve())


def test_an_unrecognised_drop_is_explained(main_window, tmp_path):
    junk = tmp_path / "blob.bin"
    junk.write_bytes(b"\x00garbage")
    main_window.open_paths([junk])
    assert main_window.message_bar.isVisible()
    assert f"Could not open {junk}: no pane recognises it" in main_window.message_bar.label.text()


def _slow_job(steps, ctx):
    for i in range(steps):
        time.sleep(0.01)
        ctx.progress(i + 1, steps, f"step {i + 1}")
    return "finished"


def test_a_long_job_shows_progress_and_can_be_cancelled(main_window, qtbot):
    job = main_window.ctx.jobs.submit("Long analysis", _slow_job, 100000)
    widget = None

    def progressing():
        nonlocal widget
        widget = main_window.job_strip.widgets.get(id(job))
        assert widget is not None and widget.bar.value() > 0

    qtbot.waitUntil(progressing, timeout=5000)
    assert widget.isVisible()
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        qtbot.mouseClick(widget.cancel, Qt.LeftButton)
    assert job.state == "cancelled"
    qtbot.waitUntil(lambda: id(job) not in main_window.job_strip.widgets, timeout=2000)


def test_a_job_result_reaches_the_gui_thread(main_window, qtbot):
    with qtbot.waitSignal(main_window.ctx.jobs.submit("Short", _slow_job, 5).succeeded, timeout=5000) as got:
        pass
    assert got.args == ["finished"]


def _failing(ctx):
    raise MedStationError("the series has no pixel data", kept="the 12 series imported before it are kept")


def test_a_failing_job_becomes_a_sentence_not_a_crash(main_window, qtbot):
    job = main_window.ctx.jobs.submit("Loading series 3", _failing, on_error=main_window.show_error)
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    assert main_window.message_bar.label.text() == ("Loading series 3 failed: the series has no pixel data. "
                                                    "The 12 series imported before it are kept.")
    assert main_window.isVisible()


def test_device_is_detected_in_the_background(main_window, qtbot):
    from medstation.gui.app import detect_device

    detect_device(main_window)
    qtbot.waitUntil(lambda: main_window.device_label.text().startswith(("CPU (", "CUDA: ")), timeout=60000)
    assert main_window.device_label.text() in ("CPU (2 threads)",) or "CUDA" in main_window.device_label.text()


def test_layout_theme_and_recent_items_persist(qtbot, tmp_path):
    from medstation.gui.app import create_window

    _app, first = create_window()
    qtbot.addWidget(first)
    first.show()
    first.show_pane("resources")
    # the offscreen screen is 800x800: a height below it, the width the panes need at least
    target = (first.minimumSizeHint().width(), 600)
    first.resize(*target)
    first.set_theme("light")
    first.ctx.settings.add_recent(tmp_path, "imaging")
    first.close()

    _app, second = create_window()
    qtbot.addWidget(second)
    second.show()
    assert second.current_pane_key() == "resources"
    assert (second.width(), second.height()) == target
    assert QApplication.instance().property("medstation_theme") == "light"
    assert second.recent_menu.actions()[0].text() == str(tmp_path.resolve())
    second.set_theme("dark")
    second.close()


def test_tools_and_help_dialogs(main_window, qtbot):
    audit.record("view", "1.2.840.1", detail="slice 4")
    audit.record("export", "/tmp/report.pdf")
    dialog = main_window.show_audit()
    assert dialog.model.rowCount() == 2
    qtbot.keyClicks(dialog.text, "report")
    assert dialog.model.rowCount() == 1
    assert dialog.model.data(dialog.model.index(0, 4)) == "/tmp/report.pdf"
    dialog.verify()
    assert dialog.result.text() == "audit log intact: 2 entries, hash chain verified"
    dialog.close()

    shortcuts = main_window.show_shortcuts()
    texts = {shortcuts.table.item(r, 2).text() for r in range(shortcuts.table.rowCount())}
    assert {"Open Folder...", "Keyboard Shortcuts", "Models..."} <= texts
    shortcuts.close()

    about = main_window.show_about()
    text = about.label.text()
    assert "MedStation 0.1.0" in text and "torch 2." in text and "Qt 6." in text
    about.close()

    models = main_window.show_models()  # the shipped bundles, each with its card
    names = [models.list.item(r).text().split()[0] for r in range(models.list.count())]
    assert {"lesion_ct", "notes_findings"} <= set(names)
    assert models.current().name == names[0] and "not for clinical use" in models.card.toPlainText()
    models.close()


def _stalls_after_two_steps(ctx):
    ctx.progress(1, 10, "instance 1")
    ctx.progress(2, 10, "instance 2")  # rate-limited: no signal carries this one
    time.sleep(1.0)  # a PACS that stops answering
    return "done"


def test_the_last_step_before_a_stall_is_shown(main_window, qtbot):
    job = main_window.ctx.jobs.submit("Retrieve", _stalls_after_two_steps)
    qtbot.waitUntil(lambda: id(job) in main_window.job_strip.widgets, timeout=2000)
    widget = main_window.job_strip.widgets[id(job)]
    qtbot.waitUntil(lambda: widget.label.text() == "Retrieve - instance 2", timeout=900)
    assert widget.bar.value() == 200
    with qtbot.waitSignal(job.succeeded, timeout=5000):
        pass


def test_export_de_identified_copy_needs_a_study_then_offers_its_files(main_window, qtbot, tmp_path):
    import shutil

    assert main_window.show_deid_export() is None
    assert "open a study in the Imaging pane first" in main_window.message_bar.label.text()
    study = tmp_path / "ct"
    study.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), study / "IM0001")
    pane = main_window.show_pane("imaging")
    with qtbot.waitSignal(pane.volume_loaded, timeout=30000):
        main_window.open_paths([study])
    dialog = main_window.show_deid_export()
    assert [p.name for p in dialog.source_paths] == ["IM0001"]
    dialog.close()
