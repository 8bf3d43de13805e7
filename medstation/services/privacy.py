"""The privacy service: de-identified copies of DICOM studies, VCF files and text notes, for the De-identified
export dialog and ``medstation deid`` alike. Every export that wrote something is audited here."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from medstation.core import atomic, audit
from medstation.core.jobs import JobContext


def deidentify_study(paths: Iterable[str | os.PathLike], out_dir: str | os.PathLike, options=None,
                     ctx: JobContext | None = None):
    """PS3.15 de-identified copy of the DICOM instances under ``paths`` in ``out_dir`` (an ExportReport). What was
    written is audited even when the export stops half-way (cancelled, a write failed)."""
    from medstation.core.privacy.export import ExportReport, deidentify_paths
    from medstation.core.privacy.profile import Options

    paths, options = list(paths), options or Options()
    report = ExportReport(Path(out_dir))
    try:
        return deidentify_paths(paths, out_dir, options, ctx, report=report)
    finally:
        if report.written:
            audit.record("deidentify", ", ".join(str(p) for p in paths), detail=(
                f"{len(report.written)} file(s) -> {report.out_dir}; {options.describe()}; "
                f"{len(report.studies)} study(ies); {len(report.skipped)} skipped; {len(report.warnings)} warnings"))


def deidentify_vcf(src: str | os.PathLike, dest: str | os.PathLike, ctx: JobContext | None = None):
    """A copy of the VCF ``src`` at ``dest`` with pseudonymous sample names and no identifying headers; audited."""
    from medstation.core.privacy.vcf import deidentify_vcf as write_copy

    result = write_copy(src, dest, ctx)
    audit.record("export", str(src), detail=(f"de-identified VCF -> {dest}; {len(result.samples)} sample(s) "
                                             f"pseudonymised; {len(result.dropped_headers)} header line(s) removed; "
                                             f"{result.records} record(s)"))
    return result


def deidentify_note(src: str | os.PathLike, dest: str | os.PathLike) -> list:
    """The text note ``src`` written to ``dest`` with PHI replaced by typed placeholders; the spans replaced."""
    from medstation.core.notes.phi import scrub

    src = Path(src)
    text, spans = scrub(src.read_text(encoding="utf-8", errors="replace"))
    atomic.write_text(dest, text)
    audit.record("deidentify", str(src), detail=f"note -> {dest}; {len(spans)} PHI span(s) replaced")
    return spans
