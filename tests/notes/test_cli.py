"""``medstation notes analyze`` and ``notes scrub`` print what the pane shows, and audit what they do."""
from __future__ import annotations

import json

from medstation import cli
from medstation.core import audit

REPORT = ("INDICATION: Shortness of breath.\nFINDINGS: There is a moderate right pleural effusion. No pneumothorax."
          "\nIMPRESSION: Moderate right pleural effusion.\n")


def run_json(capsys, *argv):
    assert cli.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_analyze_json_with_explanation(tmp_path, capsys):
    path = tmp_path / "report.txt"
    path.write_text(REPORT)
    out = run_json(capsys, "notes", "analyze", str(path), "--explain", "--label", "pleural effusion", "--json")
    assert [s["name"] for s in out["sections"]] == ["indication", "findings", "impression"]
    pneumothorax = next(c for c in out["concepts"] if c["text"] == "pneumothorax")
    assert pneumothorax["status"] == "absent" and "negated" in pneumothorax["attributes"]
    labels = {entry["label"]: entry for entry in out["labels"]}
    assert len(labels) == 14
    assert labels["pleural effusion"]["state"] == "present"
    assert labels["pleural effusion"]["probabilities"]["present"] > 0.5
    assert labels["pneumothorax"]["probabilities"]["present"] < 0.5
    exp = out["explanations"]["pleural effusion"]
    total = exp["base_value"] + sum(a["value"] for a in exp["attributions"])
    assert abs(total - exp["output"]) < 1e-3
    assert abs(exp["output"] - labels["pleural effusion"]["probabilities"]["present"]) < 1e-3
    assert max(exp["attributions"], key=lambda a: a["value"])["text"].lower() in ("effusion", "pleural",
                                                                                  "moderate", "right")
    actions = [e.action for e in audit.entries()]
    assert actions == ["open", "infer"]
    assert audit.entries(action="infer")[0].model == "notes_findings"


def test_analyze_summary_and_csv_note_selection(tmp_path, capsys):
    path = tmp_path / "notes.csv"
    path.write_text('id,patient,text\na,P1,"FINDINGS: Mild cardiomegaly."\nb,P2,"FINDINGS: No effusion."\n')
    assert cli.main(["notes", "analyze", str(path), "--note", "a"]) == 0
    text = capsys.readouterr().out
    assert "cardiomegaly" in text and "present" in text and "notes.csv:2" in text
    assert "notes.csv:3" not in text


def test_analyze_missing_note_id_is_a_sentence(tmp_path, capsys):
    path = tmp_path / "notes.csv"
    path.write_text('id,text\na,"FINDINGS: clear"\n')
    assert cli.main(["notes", "analyze", str(path), "--note", "zzz"]) == 1
    assert "no note with id 'zzz'" in capsys.readouterr().err


def test_scrub_writes_placeholders_and_audits(tmp_path, capsys):
    path = tmp_path / "note.txt"
    path.write_text("Patient: Mary Okafor, MRN 12345678, seen 03/04/2021.\nFINDINGS: No effusion.")
    out = tmp_path / "scrubbed.txt"
    assert cli.main(["notes", "scrub", str(path), "-o", str(out)]) == 0
    text = out.read_text()
    assert "Okafor" not in text and "12345678" not in text and "[NAME]" in text and "[DATE]" in text
    assert "FINDINGS: No effusion." in text
    assert [e.action for e in audit.entries()] == ["open", "deidentify", "export"]
