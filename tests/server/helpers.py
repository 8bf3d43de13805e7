"""Real servers on loopback for the server and cluster tests: ``medstation serve`` in a subprocess, TLS material."""
from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1/localhost and a workstation's client certificate, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("MedStation test CA")).issuer_name(name("MedStation test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = (x509.CertificateBuilder().subject_name(name("ws-ct-1")).issuer_name(ca.subject)
              .public_key(client_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=5))
              .not_valid_after(now + datetime.timedelta(days=1)).sign(ca_key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    out = {"ca": folder / "ca.pem", "cert": folder / "server.pem", "key": folder / "server.key",
           "client_cert": folder / "client.pem", "client_key": folder / "client.key"}
    out["client_cert"].write_bytes(client.public_bytes(serialization.Encoding.PEM))
    out["client_key"].write_bytes(client_key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    out["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    return out


class ServerProcess:
    """``medstation serve`` on 127.0.0.1 in its own MEDSTATION_HOME; stopped (and waited for) by ``stop``."""

    def __init__(self, home: Path, *extra: str, timeout: float = 120.0):
        self.home = home
        self.grpc_port, self.http_port = free_port(), free_port()
        env = {**os.environ, "MEDSTATION_HOME": str(home),
               "MEDSTATION_THREADS": os.environ.get("MEDSTATION_THREADS", "2"),
               "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log = home / "serve.log"
        home.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen([sys.executable, "-m", "medstation", "serve", "--host", "127.0.0.1",
                                      "--port", str(self.grpc_port), "--http-port", str(self.http_port), *extra],
                                     stdout=open(self.log, "w"), stderr=subprocess.STDOUT, env=env, cwd=REPO)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"medstation serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            if "serving " in self.log.read_text() and self._listening():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"medstation serve did not start in {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def _listening(self) -> bool:
        for port in (self.grpc_port, self.http_port):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) != 0:
                    return False
        return True

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def audit_entries(self):
        """The server's own audit log (read with MedStation's reader, pointed at the server's home)."""
        import sqlite3

        conn = sqlite3.connect(self.home / "data" / "medstation.sqlite3")
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute("SELECT * FROM audit ORDER BY seq")]
        finally:
            conn.close()
