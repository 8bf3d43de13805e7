"""De-identified VCF export: sample names become pseudonyms and identifying header lines are dropped or rewritten.

Sample columns are renamed ``SAMPLE_<token>`` (a keyed HMAC of the original name under the site secret, so the same
sample gets the same pseudonym in every export from this site). Header lines that record people, dates, machines or
file paths (command lines, ``##SAMPLE``, ``##PEDIGREE``, ``##fileDate``, ...) are removed; ``##reference`` keeps
only the file name; any other header line that mentions a sample name gets the pseudonym instead. Variant records
are copied unchanged. The output (plain or gzip, from its suffix) is written atomically; the privacy service
audits the export.
"""
from __future__ import annotations

import gzip
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from medstation.core import atomic
from medstation.core.errors import MedStationError
from medstation.core.jobs import JobContext, null_context
from medstation.core.privacy.keys import Keys, site_secret

# header keys dropped outright (case-insensitive prefixes after '##')
DROPPED_KEYS = ("sample", "pedigree", "filedate", "individual", "patient", "commandline", "cmdline", "gatkcommandline",
                "bcftools_", "vcftools_", "snpeffcmd", "vep-command-line", "dragen", "date", "user", "center",
                "institution", "tumor_sample", "normal_sample", "biosample", "sequencer", "instrument", "run",
                "library", "platformunit", "gvcfblock")
_COMMAND_RE = re.compile(r"command|cmd", re.IGNORECASE)


@dataclass
class VcfExport:
    out: Path
    samples: dict[str, str] = field(default_factory=dict)  # original -> pseudonym
    dropped_headers: list[str] = field(default_factory=list)  # header keys removed
    records: int = 0


def _open(path: Path) -> io.TextIOBase:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _header_key(line: str) -> str:
    return line[2:].split("=", 1)[0].strip().lower()


def _keep_header(line: str) -> str | None:
    key = _header_key(line)
    if key.startswith(DROPPED_KEYS) or _COMMAND_RE.search(key):
        return None
    if key == "reference":
        value = line.split("=", 1)[1].strip()
        return f"##reference={os.path.basename(value.replace('file://', ''))}\n"
    return line


def _rename(text: str, mapping: dict[str, str]) -> str:
    for original in sorted(mapping, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.-]){re.escape(original)}(?![\w.-])", mapping[original], text)
    return text


def deidentify_vcf(src: str | os.PathLike, dest: str | os.PathLike, ctx: JobContext | None = None,
                   keys: Keys | None = None) -> VcfExport:
    """Write a copy of ``src`` at ``dest`` with pseudonymous sample names and no identifying header lines."""
    ctx = ctx or null_context()
    src, dest = Path(src), Path(dest)
    keys = keys or Keys(site_secret())
    result = VcfExport(dest)
    header: list[str] = []
    try:
        with _open(src) as reader, atomic.atomic_path(dest) as tmp:
            opener = gzip.open if dest.name.endswith((".gz", ".bgz")) else open
            with opener(tmp, "wt", encoding="utf-8", newline="") as writer:
                _copy(reader, writer, header, result, keys, ctx, src)
    except (OSError, EOFError, UnicodeError) as exc:
        raise MedStationError(f"{src}: could not be read as VCF ({exc.__class__.__name__}: {exc})",
                              kept="no de-identified copy was written") from exc
    return result


def _copy(reader, writer, header, result: VcfExport, keys: Keys, ctx: JobContext, src: Path) -> None:
    seen_columns = False
    for number, line in enumerate(reader, start=1):
        if line.startswith("##"):
            header.append(line if line.endswith("\n") else line + "\n")
            continue
        if line.startswith("#CHROM"):
            seen_columns = True
            columns = line.rstrip("\r\n").split("\t")
            samples = columns[9:]
            result.samples = {s: f"SAMPLE_{keys.token('vcf-sample', s, 8)}" for s in samples}
            for kept in _headers(header, result):
                writer.write(kept)
            writer.write("\t".join(columns[:9] + [result.samples[s] for s in samples]) + "\n")
            continue
        if not seen_columns:
            raise MedStationError(f"{src} line {number}: a data line before the #CHROM header; not a VCF",
                                  kept="no de-identified copy was written")
        writer.write(line if line.endswith("\n") else line + "\n")
        result.records += 1
        if result.records % 5000 == 0:
            ctx.progress(0.5, None, f"{result.records} records")
    if not seen_columns:
        raise MedStationError(f"{src}: no #CHROM header line; not a VCF", kept="no de-identified copy was written")


def _headers(header: list[str], result: VcfExport):
    for line in header:
        kept = _keep_header(line)
        if kept is None:
            result.dropped_headers.append(_header_key(line))
            continue
        yield _rename(kept, result.samples) if result.samples else kept
