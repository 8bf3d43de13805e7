"""Test set-up for a real PACS: Orthanc (Debian package) with its own config, inside a private network namespace.

Orthanc 1.10 has no bind-address option and listens on all interfaces, so it is only ever started by tests that
run inside ``unshare --net`` with nothing but loopback up (see ``namespace_command``). Storage is a temporary
folder; HTTP (REST and DICOMweb) and DIMSE are only reachable from inside the namespace.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ORTHANC = shutil.which("Orthanc") or ("/usr/sbin/Orthanc" if Path("/usr/sbin/Orthanc").exists() else None)
DICOMWEB_PLUGIN = next((p for p in ("/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
                                    "/usr/lib/orthanc/libOrthancDicomWeb.so") if Path(p).exists()), None)
NAMESPACE_ENV = "MEDSTATION_PACS_NETNS"

AET = "ORTHANC"
DICOM_PORT = 4242
HTTP_PORT = 8042
MEDSTATION_AET = "MEDSTATION"
MEDSTATION_PORT = 11113


def inside_namespace() -> bool:
    return os.environ.get(NAMESPACE_ENV) == "1"


def namespace_prefix() -> list[str]:
    """The command prefix that runs a program in a fresh network namespace with only loopback up."""
    unshare = ["unshare", "--net"] if os.geteuid() == 0 else ["unshare", "--net", "--map-root-user"]
    return [*unshare, "sh", "-c", 'ip link set lo up && exec "$@"', "netns"]


def namespace_problem() -> str | None:
    """Why a private network namespace cannot be made here (None when it can)."""
    for tool in ("unshare", "ip"):
        if not shutil.which(tool):
            return f"{tool} is not installed (util-linux / iproute2)"
    try:
        probe = subprocess.run([*namespace_prefix(), "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare failed: {exc}"
    if probe.returncode != 0:
        return f"cannot create a private network namespace: {(probe.stderr or probe.stdout).strip()[:200]}"
    return None


def config(workdir: Path, *, dicom_port: int = DICOM_PORT, http_port: int = HTTP_PORT, dicomweb: bool = True) -> dict:
    return {
        "Name": "MedStationTestPACS",
        "StorageDirectory": str(workdir / "storage"),
        "IndexDirectory": str(workdir / "storage"),
        "DicomAet": AET,
        "DicomPort": dicom_port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": True,
        "DicomCheckModalityHost": False,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "DicomModalities": {"medstation": {"AET": MEDSTATION_AET, "Host": "127.0.0.1", "Port": MEDSTATION_PORT}},
        "DicomScuTimeout": 10,
        "DicomScpTimeout": 30,
        "UnknownSopClassAccepted": True,
        "StableAge": 1,
        "SaveJobs": False,
        "SyncStorageArea": False,
        "ConcurrentJobs": 2,
        "HttpThreadsCount": 4,
        "Plugins": [DICOMWEB_PLUGIN] if dicomweb and DICOMWEB_PLUGIN else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False, "Ssl": False},
    }


class Orthanc:
    """One Orthanc process with its config and storage in ``workdir``."""

    def __init__(self, workdir: Path, dicom_port: int = DICOM_PORT, http_port: int = HTTP_PORT):
        self.workdir = Path(workdir)
        self.dicom_port, self.http_port = dicom_port, http_port
        self.process: subprocess.Popen | None = None
        self.log = self.workdir / "orthanc.log"

    @property
    def dicomweb_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/dicom-web"

    def start(self, timeout: float = 30.0) -> "Orthanc":
        if not inside_namespace():
            raise RuntimeError("Orthanc listens on all interfaces: start it only inside a private network namespace")
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / "orthanc.json"
        path.write_text(json.dumps(config(self.workdir, dicom_port=self.dicom_port, http_port=self.http_port),
                                   indent=2))
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen([ORTHANC, str(path)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Orthanc exited with {self.process.returncode}:\n{self.log.read_text()[-2000:]}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"Orthanc did not start within {timeout} s:\n{self.log.read_text()[-2000:]}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.dicom_port), timeout=0.5):
                pass
            return self.rest("/system").get("DicomAet") == AET
        except OSError:
            return False

    def rest(self, path: str, data: bytes | None = None, method: str | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}{path}", data=data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def instances(self) -> list[dict]:
        """Every instance Orthanc holds, with its main DICOM tags."""
        return [self.rest(f"/instances/{i}") for i in self.rest("/instances")]

    def sop_uids(self) -> set[str]:
        return {item["MainDicomTags"]["SOPInstanceUID"] for item in self.instances()}

    def instance_file(self, sop_uid: str) -> bytes:
        found = self.rest("/tools/lookup", data=sop_uid.encode(), method="POST")
        orthanc_id = next(item["ID"] for item in found if item["Type"] == "Instance")
        request = urllib.request.Request(f"http://127.0.0.1:{self.http_port}/instances/{orthanc_id}/file")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def kill(self) -> None:
        """SIGKILL: what a crash or a pulled cable looks like to MedStation."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
