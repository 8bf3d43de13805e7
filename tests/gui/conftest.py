"""Fixtures the pane tests share with the headless tests of their area (real sample files)."""
from tests.genomics.conftest import kg_vcf, lancet_slice, lancet_vcf  # noqa: F401 - fixtures, used by name


def open_in_why_panel(main_window, qtbot, path):
    """The Imaging pane's own "why" panel, on its tab, with the series at ``path`` loaded."""
    pane = main_window.show_pane("imaging")
    panel = pane.explain_panel
    pane.side.setCurrentWidget(panel)
    with qtbot.waitSignal(pane.volume_loaded, timeout=60000):
        main_window.open_paths([path])
    return panel
