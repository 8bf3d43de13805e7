"""Private files: 0600/0700 on creation and tightened on start; unpacked archives that gave nothing are removed;
an archive's unpacked size is bounded by a ratio and an absolute limit that nested archives share."""
from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from medstation import cli
from medstation.core import db, paths
from medstation.core.imaging import index, sources


@pytest.fixture
def ct_small():
    from pydicom.data import get_testdata_file

    return Path(get_testdata_file("CT_small.dcm"))


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_database_and_folders_are_created_private():
    with db.connection():
        pass
    assert _mode(paths.database_path()) == 0o600
    for folder in (paths.config_dir(), paths.data_dir(), paths.log_dir(), paths.cache_dir()):
        assert _mode(folder) == 0o700, folder


def test_an_older_install_is_tightened_on_start(tmp_path, monkeypatch):
    home = tmp_path / "medstation-home"
    for sub in ("config", "data", "logs", "cache/imports/study-1234"):
        (home / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(home / sub, 0o755)
    old = {home / "config" / "settings.json": b"{}", home / "data" / "medstation.sqlite3": b"",
           home / "cache" / "imports" / "study-1234" / "IM1": b"pixels"}
    for path, data in old.items():
        path.write_bytes(data)
        os.chmod(path, 0o644)
    monkeypatch.setenv("MEDSTATION_HOME", str(home))
    assert cli.main(["audit", "list"]) == 0
    for path in old:
        assert _mode(path) == 0o600, path
    for sub in ("config", "data", "logs", "cache", "cache/imports", "cache/imports/study-1234"):
        assert _mode(home / sub) == 0o700, sub


def _zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def test_unpacked_archives_are_private_and_removed_when_they_gave_nothing(tmp_path, ct_small):
    (tmp_path / "a.zip").write_bytes(_zip_of({"study/ct.dcm": ct_small.read_bytes()}))
    report = index.index_paths([tmp_path / "a.zip"])
    assert report.instances_added == 1
    unpacked = list(sources.unpacked_root().iterdir())
    assert len(unpacked) == 1 and _mode(unpacked[0]) == 0o700
    assert _mode(unpacked[0] / "study" / "ct.dcm") == 0o600
    # the same image again in another archive (a duplicate) and an archive without DICOM: nothing to keep
    (tmp_path / "b.zip").write_bytes(_zip_of({"again/ct.dcm": ct_small.read_bytes()}))
    (tmp_path / "c.zip").write_bytes(_zip_of({"readme.txt": b"not an image"}))
    index.index_paths([tmp_path / "b.zip", tmp_path / "c.zip"])
    assert list(sources.unpacked_root().iterdir()) == unpacked


def test_the_total_bound_covers_nested_archives(tmp_path, monkeypatch):
    payload = os.urandom(600 * 1024)  # incompressible: each member is far below the per-member ratio
    inner = {f"inner{i}.zip": _zip_of({f"part{j}.bin": payload for j in range(2)}) for i in range(3)}
    (tmp_path / "outer.zip").write_bytes(_zip_of(inner))
    monkeypatch.setattr(sources, "MIN_TOTAL_BUDGET", 0)
    monkeypatch.setattr(sources, "MAX_TOTAL_RATIO", 1.5)  # the outer archive may unpack 1.5x its size in all
    out = sources.Expansion()
    list(sources.expand([tmp_path / "outer.zip"], out))
    inner_bytes = sum(p.stat().st_size for p in sources.unpacked_root().rglob("inner*.zip"))
    unpacked = sum(p.stat().st_size for p in sources.unpacked_root().rglob("*.bin"))
    assert inner_bytes + unpacked <= 1.5 * (tmp_path / "outer.zip").stat().st_size
    assert unpacked < 6 * len(payload)  # each archive alone is within the limits; together they are not
    assert any("nested archives included" in why and "zip bomb guard" in why for _where, why in out.skipped)


def test_the_absolute_bound_holds_for_compressible_archives(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "MAX_ZIP_BYTES", 3 * 2**20)
    data = bytes(range(256)) * 4096  # 1 MB that deflates well, under the per-member ratio
    (tmp_path / "big.zip").write_bytes(_zip_of({f"f{i}.bin": data for i in range(6)}))
    out = sources.Expansion()
    list(sources.expand([tmp_path / "big.zip"], out))
    assert sum(p.stat().st_size for p in sources.unpacked_root().rglob("*.bin")) <= 3 * 2**20
    assert any("limit of 3 MB" in why for _where, why in out.skipped)
