"""Human labels of the IU reports: the MeSH mapping, the reserved-report filter (also inside the training
script), hedged alternatives and the finding text the classifier reads."""
from __future__ import annotations

import importlib.util

from medstation.core.notes import readers
from medstation.core.notes.labeler import finding_text
from medstation.core.notes.mesh import allowed_report_files, is_reserved, mesh_observations, scored_call
from medstation.core.notes.pipeline import analyze_text
from tests.conftest import REPO, require_data


def test_mapping_follows_the_issue():
    assert mesh_observations(["Tube, Inserted", "Tuberculosis"]) == {"support devices"}
    assert mesh_observations(["Calcified Granuloma/lung/upper lobe/right", "Granuloma", "normal"]) == set()
    assert mesh_observations(["Nodule/lung/base/left", "Mass/mediastinum"]) == {"lung lesion"}
    assert mesh_observations(["Edema/lung"]) == mesh_observations(["Pulmonary Edema/interstitial"]) == {"edema"}
    assert mesh_observations(["Consolidation/lung/base"]) == {"lung opacity", "consolidation"}
    assert mesh_observations(["Catheters, Indwelling/right", "Fractures, Bone/ribs"]) == {"support devices",
                                                                                           "fracture"}
    assert mesh_observations(["Pulmonary Atelectasis/base", "Pulmonary Congestion", "Density/lung"]) == \
        {"atelectasis"}
    assert scored_call({"lung opacity": "absent", "pneumonia": "present"}, "lung opacity")
    assert not scored_call({"lung opacity": "uncertain", "pneumonia": "absent"}, "lung opacity")


def test_reserved_reports_are_dropped_by_name(tmp_path):
    for number in (5, 7, 10, 12, 15, 33):
        (tmp_path / f"{number}.xml").write_text("<eCitation/>")
    (tmp_path / "notes.xml").write_text("<eCitation/>")
    assert [p.name for p in allowed_report_files(tmp_path)] == ["7.xml", "12.xml", "33.xml"]
    assert is_reserved("ecgen/1000.xml") and is_reserved("notes.xml") and not is_reserved("1001.xml")


def test_allowed_real_reports():
    files = allowed_report_files(require_data("iu_reports"))
    assert len(files) == 3165  # of 3,955: the 790 reports with ids divisible by 5 are reserved
    assert all(int(p.stem) % 5 for p in files)


def test_training_script_never_opens_a_reserved_report(tmp_path, monkeypatch):
    data = require_data("iu_reports")
    spec = importlib.util.spec_from_file_location("nf_train", REPO / "scripts/train/notes_findings.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    opened = []
    for name in ("read_openi_xml", "openi_mesh"):
        real = getattr(readers, name)
        monkeypatch.setattr(readers, name, lambda path, real=real: opened.append(path) or real(path))
    reports = script.load_reports(data, limit=40)
    assert {str(p) for p in opened} == {str(p) for p in allowed_report_files(data)[:40]}
    assert not any(int(p.stem) % 5 == 0 for p in opened)
    assert len(reports) >= 35 and all(int(r["id"]) % 5 for r in reports)
    assert {o for r in reports for o in r["mesh"]} >= {"cardiomegaly", "atelectasis"}


def test_alternatives_are_uncertain():
    labels = analyze_text("FINDINGS: Left basilar opacity, infiltrate or atelectasis.").labels
    assert labels["atelectasis"] == "uncertain" and labels["lung opacity"] == "present"
    labels = analyze_text("FINDINGS: Right lower lobe atelectasis versus pneumonia.").labels
    assert labels["atelectasis"] == labels["pneumonia"] == "uncertain"
    labels = analyze_text("FINDINGS: No effusion or pneumothorax. Cardiomegaly.").labels
    assert labels["pleural effusion"] == labels["pneumothorax"] == "absent" and labels["cardiomegaly"] == "present"


def test_finding_text_leaves_out_the_indication():
    text = ("COMPARISON: None.\nINDICATION: 62-year-old woman with cough.\nFINDINGS: Heart is enlarged.\n"
            "IMPRESSION: Cardiomegaly.")
    assert finding_text(text) == "Heart is enlarged.\nCardiomegaly."
    assert finding_text("Small left effusion.") == "Small left effusion."
