"""The pane registry: the tabs, the View menu and drag-and-drop routing all come from it, so a fifth pane is one
module and one registry entry."""
from __future__ import annotations

import pytest

from medstation.core import routing
from medstation.gui import panes as registry

pytestmark = pytest.mark.gui


def test_every_content_type_has_its_pane():
    assert {kind: registry.for_content(kind) for kind in routing.PANES} == {
        "imaging": "imaging", "notes": "notes", "genomics": "genomics", "resources": "resources"}
    assert registry.for_content("waveform") is None
    with pytest.raises(KeyError, match="no pane 'waveforms'"):
        registry.spec("waveforms")


def test_a_fifth_pane_is_one_module_and_one_registry_entry(qtbot, monkeypatch, tmp_path):
    from medstation.gui.app import create_window

    entry = registry.PaneSpec("waveforms", "Waveforms", ("waveform",), "tests.gui.fifth_pane", "WaveformPane")
    monkeypatch.setattr(registry, "REGISTRY", registry.REGISTRY + (entry,))
    known = routing.classify
    monkeypatch.setattr(routing, "classify", lambda p: "waveform" if str(p).endswith(".wfdb") else known(p))
    _app, window = create_window()
    qtbot.addWidget(window)
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())][-1] == "Waveforms"
    record = tmp_path / "ecg.wfdb"
    record.write_bytes(b"\0" * 16)
    routed = window.open_paths([record])  # what a drop does
    assert routed == {"waveforms": [record]}
    assert window.current_pane_key() == "waveforms" and window.panes["waveforms"].opened == [record]
    assert "Waveforms" in [a.text() for a in window.menuBar().actions()[1].menu().actions()]
    window.close()
