import json

from medstation.core import paths
from medstation.core.settings import MAX_RECENT, SCHEMA_VERSION, Settings


def test_settings_live_under_medstation_home(isolated_home):
    settings = Settings()
    settings.set("theme", "light")
    assert paths.settings_path() == isolated_home / "config" / "settings.json"
    assert json.loads(paths.settings_path().read_text())["theme"] == "light"
    assert Settings().get("theme") == "light"


def test_version_1_settings_migrate_recent_items(isolated_home):
    paths.settings_path().write_text(json.dumps({"schema_version": 1, "recent": ["/data/ct", "/data/mr"]}))
    settings = Settings()
    assert settings.get("schema_version") == SCHEMA_VERSION
    assert settings.recent() == [{"path": "/data/ct", "kind": None}, {"path": "/data/mr", "kind": None}]


def test_recent_items_are_unique_newest_first_and_capped(tmp_path):
    settings = Settings()
    for i in range(MAX_RECENT + 3):
        settings.add_recent(tmp_path / f"study{i}", "imaging")
    settings.add_recent(tmp_path / "study5", "imaging")
    recent = [r["path"] for r in Settings().recent()]
    assert len(recent) == MAX_RECENT
    assert recent[0].endswith("study5") and recent.count(recent[0]) == 1
    assert recent[1].endswith(f"study{MAX_RECENT + 2}")


def test_unreadable_settings_fall_back_to_defaults_and_keep_the_file(isolated_home):
    paths.settings_path().write_text("{ not json")
    settings = Settings()
    assert settings.get("theme") == "dark"
    assert (isolated_home / "config" / "settings.json.unreadable").read_text() == "{ not json"
