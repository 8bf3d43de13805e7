"""The PACS dialogs without a network: models, validation messages, and that nothing connects unasked."""
from __future__ import annotations

from medstation.core.pacs import nodes
from medstation.core.pacs.nodes import PacsNode
from medstation.core.pacs.query import Match
from medstation.core.pacs.send import InstanceStatus


def test_match_model_formats_rows_and_passes_modeltester(qtmodeltester):
    from PySide6.QtCore import Qt

    from medstation.gui.dialogs.pacs_models import MatchTableModel
    from medstation.gui.table_model import RowRole

    model = MatchTableModel()
    study = Match("study", {"PatientName": "DOE^JANE", "PatientID": "P7", "StudyDate": "20240131",
                            "ModalitiesInStudy": "CT\\SR", "NumberOfStudyRelatedInstances": "120",
                            "StudyInstanceUID": "1.2.3"})
    model.set_matches("study", [study])
    qtmodeltester.check(model)
    row = [model.data(model.index(0, c)) for c in range(model.columnCount())]
    assert row[:4] == ["DOE, JANE", "P7", "2024-01-31", "CT\\SR"] and row[-1] == "1.2.3"
    assert model.headerData(7, Qt.Horizontal) == "Images"
    assert model.data(model.index(0, 0), RowRole) is study
    model.set_matches("series", [])
    assert model.rowCount() == 0 and model.headerData(2, Qt.Horizontal) == "Modality"


def test_send_model_shows_each_instance(qtmodeltester, tmp_path):
    from medstation.gui.dialogs.pacs_models import send_status_model

    model = send_status_model()
    model.set_rows([InstanceStatus(tmp_path / "a.dcm", "1.2", "1.3", True, "0x0000 Success"),
                    InstanceStatus(tmp_path / "b.txt", status="not a DICOM file (bad preamble)")])
    qtmodeltester.check(model)
    assert [model.data(model.index(r, 0)) for r in range(2)] == ["Stored", "Failed"]
    assert model.data(model.index(1, 3)) == "not a DICOM file (bad preamble)"


def test_query_dialog_without_nodes_says_where_to_add_one(qtbot, main_window):
    from medstation.gui.dialogs.pacs import PacsQueryDialog

    dialog = PacsQueryDialog(main_window.ctx, main_window)
    qtbot.addWidget(dialog)
    assert dialog.status.text() == "No PACS node is configured: add one in Tools > PACS Nodes."
    dialog.search()
    assert dialog.job is None
    assert dialog.status.text() == "No PACS node is configured: add one in Tools > PACS Nodes."
    dialog.form.date_from.setText("2024-02-30x")
    nodes.save_nodes(main_window.ctx.settings, [PacsNode("A", "AE", "pacs.invalid", 104)])
    dialog.reload_nodes()
    dialog.search()
    assert dialog.job is None and "is not a date" in dialog.status.text()
    dialog.retrieve_selected()
    assert dialog.status.text() == "Select one or more rows to retrieve."
    dialog.close()


def test_nodes_dialog_save_names_the_bad_field_and_keeps_settings(qtbot, main_window):
    from medstation.gui.dialogs.pacs import PacsNodesDialog

    nodes.save_nodes(main_window.ctx.settings, [PacsNode("Main", "MAIN", "pacs.local", 4242)])
    dialog = PacsNodesDialog(main_window.ctx, main_window)
    qtbot.addWidget(dialog)
    assert dialog.form.host.text() == "pacs.local" and dialog.form.port.value() == 4242
    dialog.form.ae_title.setText("AN_AE_TITLE_THAT_IS_TOO_LONG")
    dialog.save()
    assert dialog.status.text().startswith("Not saved: node 'Main': the called AE title")
    assert nodes.load_nodes(main_window.ctx.settings)[0].ae_title == "MAIN"
    dialog.form.ae_title.setText("MAIN2")
    dialog.local_port.setValue(11400)
    dialog.save()
    assert nodes.load_nodes(main_window.ctx.settings)[0].ae_title == "MAIN2"
    assert nodes.load_local(main_window.ctx.settings).port == 11400


def test_nodes_dialog_add_remove_and_tls_fields(qtbot, main_window):
    from medstation.gui.dialogs.pacs import PacsNodesDialog

    dialog = PacsNodesDialog(main_window.ctx, main_window)
    qtbot.addWidget(dialog)
    assert not dialog.form.ca.isEnabled()
    dialog.add_node()
    dialog.add_node()
    assert [dialog.list.item(i).text() for i in range(dialog.list.count())] == ["PACS 1", "PACS 2"]
    dialog.form.tls.setChecked(True)
    assert dialog.form.ca.isEnabled()
    dialog.remove_node()
    assert dialog.list.count() == 1 and len(dialog.nodes) == 1
    dialog.form.host.setText("")
    dialog.verify()  # an incomplete node is explained, nothing connects
    assert "neither a host and AE title" in dialog.status.text()
    dialog.close()
