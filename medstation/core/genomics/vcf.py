"""Open a VCF or BCF (plain, bgzipped, tabix-indexed; one or many samples; VCF 4.1-4.3) into columnar storage.

Text VCFs are first checked line by line, because htslib stops at the first broken record: every malformed record
is reported with its line number and reason, and the rest are read by cyvcf2 from a cleaned copy. The result is a
``VariantSet``: one pandas DataFrame (one column per field, no per-row Python objects) plus the genotype matrix
used by the runs-of-homozygosity analysis.
"""
from __future__ import annotations

import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from medstation.core.errors import MedStationError
from medstation.core.genomics.annotate import (ALIASES, CLINVAR_FLAGS, INFO_CLINVAR, INFO_POPFREQ, AnnotationLayout,
                                               first_consequence, normalise_clinvar, to_float)
from medstation.core.genomics.frequency import (apply_population, frequency_keys, named_resource,
                                                record_frequencies)
from medstation.core.genomics.sample import SampleCounts, annotate_sample, header_pair, passing, pick_samples
from medstation.core.jobs import JobContext, null_context

_BASES = re.compile(r"^[ACGTNacgtn]+$")
_ALT = re.compile(r"^([ACGTNacgtn*]+|<[^>]+>|\.|[ACGTNacgtn]*[\[\]][^\[\]]+[\[\]][ACGTNacgtn]*|[ACGTNacgtn]+\.|"
                  r"\.[ACGTNacgtn]+)$")
MAX_GENOTYPE_CELLS = 60_000_000
STR_COLUMNS = ("id", "ref", "alt", "filter", "gene", "consequence", "impact", "hgvsc", "hgvsp", "clinvar", "sift",
               "polyphen", "gt", "type", "regions")
NUM_COLUMNS = ("qual", "gnomad_af", "revel", "cadd", "vaf", "depth", "alt_reads", "normal_depth", "normal_alt")


@dataclass
class LineProblem:
    line: int
    reason: str

    def sentence(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class VariantSet:
    """What one VCF holds, ready for the table, the analyses and the report."""
    path: Path
    samples: list[str]
    sample: str                      # the sample whose genotype/allele fraction the table shows
    normal: str | None               # the matched normal in a tumour/normal pair
    table: "object"                  # pandas.DataFrame, one row per record (first ALT allele)
    genotypes: np.ndarray | None     # records x samples: 0 hom-ref, 1 het, 2 unknown, 3 hom-alt (cyvcf2 codes)
    problems: list[LineProblem] = field(default_factory=list)
    header: dict = field(default_factory=dict)  # fileformat, assembly (and how it was decided), annotation
    counts: SampleCounts | None = None          # the shown sample's genotypes over all records

    def __len__(self) -> int:
        return len(self.table)

    def problem_summary(self, limit: int = 5) -> str:
        if not self.problems:
            return ""
        shown = "; ".join(p.sentence() for p in self.problems[:limit])
        more = f" and {len(self.problems) - limit} more" if len(self.problems) > limit else ""
        return (f"{self.path.name}: {len(self.problems)} malformed record(s) skipped ({shown}{more}); "
                f"the other {len(self.table)} records were loaded")


_CHUNK = 1 << 20


def inflate(path: Path, keep: bool = True) -> tuple[bytes, str | None]:
    """The bytes of a gzip/bgzip file, member by member, and why reading stopped early (None when it did not).

    A member whose data is damaged (bad deflate stream or CRC) is dropped whole, so no garbled record is read; a
    file cut off mid-member keeps what decompressed before the cut, which is exact. ``keep=False`` only checks.
    """
    import zlib

    kept, pending, fed = [], [], False
    inflater = zlib.decompressobj(31)
    with open(path, "rb") as handle:
        data = handle.read(_CHUNK)
        while data:
            try:
                out = inflater.decompress(data)
                pending.append(out if keep else b"")
            except zlib.error as exc:
                return b"".join(kept), f"the compressed data is damaged ({exc})"
            fed = True
            if not inflater.eof:
                data = handle.read(_CHUNK)
                continue
            kept += pending
            pending, data, fed = [], inflater.unused_data or handle.read(_CHUNK), False
            if data and not b"\x1f\x8b".startswith(data[:2]):
                return b"".join(kept), "unreadable bytes follow the compressed data"
            inflater = zlib.decompressobj(31)
    cut = fed and not inflater.eof
    return b"".join(kept + pending), "the compressed file is cut off (it ends inside a block)" if cut else None


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _read_lines(path: Path) -> tuple[list[str], str | None]:
    """The text lines of a plain or compressed VCF, and why a compressed one could not be read to its end."""
    if not _is_gzip(path):
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines(), None
    raw, damage = inflate(path)
    lines = raw.decode("utf-8", errors="replace").splitlines()
    if damage and lines and not raw.endswith(b"\n"):
        lines.pop()  # the last line was cut in two: it is not a record
    return lines, damage


def is_bcf(path: Path) -> bool:
    import zlib

    with open(path, "rb") as handle:
        head = handle.read(65536)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(31).decompress(head, 16)
        except zlib.error:
            return False
    return head[:3] == b"BCF"


def check_record(parts: list[str], n_columns: int) -> str | None:
    """Why one tab-split data line is not a valid VCF record, or None when it is."""
    if len(parts) < 8:
        return f"{len(parts)} tab-separated columns, a record needs at least 8"
    if n_columns > 8 and len(parts) != n_columns:
        return f"{len(parts)} columns, the header declares {n_columns}"
    if not parts[1].isdigit() or int(parts[1]) < 1:
        return f"POS {parts[1]!r} is not a positive whole number"
    if not _BASES.match(parts[3]):
        return f"REF {parts[3][:20]!r} is not a sequence of A/C/G/T/N"
    for alt in parts[4].split(","):
        if not _ALT.match(alt):
            return f"ALT {alt[:20]!r} is not a valid allele"
    if parts[5] != ".":
        try:
            float(parts[5])
        except ValueError:
            return f"QUAL {parts[5]!r} is not a number"
    if parts[7] != "." and ";;" in parts[7]:
        return "INFO has an empty field (';;')"
    return None


def scan_text(path: Path, ctx: JobContext):
    """Header lines, line numbers of good records, problems, and the good record lines (an Arrow array).

    Every data line is checked with vectorised Arrow kernels; only the lines that fail are looked at one by one
    (``check_record``) to say why.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    lines, damage = _read_lines(path)
    first = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    header = [line + "\n" for line in lines[:first]]
    if damage and first == len(lines):
        raise MedStationError(f"{path.name} could not be read: {damage} at line {len(lines) + 1}, before the end "
                              "of its header", kept="nothing was loaded")
    if not header or not header[0].startswith("##fileformat=VCF"):
        raise MedStationError(f"{path.name} is not a VCF: the first line must be '##fileformat=VCFv4.x'",
                              kept="nothing was loaded")
    if not header[-1].startswith("#CHROM"):
        raise MedStationError(f"{path.name} has no '#CHROM' column header line", kept="nothing was loaded")
    if "\t" not in header[-1]:
        raise MedStationError(f"{path.name} line {first}: the #CHROM header line is not tab-separated (spaces "
                              "instead of tabs)", kept="nothing was loaded")
    n_columns = len(header[-1].rstrip("\n").split("\t"))
    body = pa.array(lines[first:], pa.large_string())
    del lines
    ctx.progress(0.1, None, f"checking {len(body)} records")
    numbers = np.arange(first + 1, first + 1 + len(body), dtype=np.int64)
    keep = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(body)), 0).to_numpy(zero_copy_only=False)
    keep &= ~pc.starts_with(body, "#").to_numpy(zero_copy_only=False)
    ok = _valid_lines(body, n_columns) & keep
    problems = [LineProblem(int(numbers[i]), check_record(body[int(i)].as_py().split("\t"), n_columns)
                            or "not a valid VCF record") for i in np.flatnonzero(keep & ~ok)]
    if damage:
        problems.append(LineProblem(first + len(body) + 1, f"{damage}; nothing from this line on could be read"))
    good = pc.filter(body, pa.array(ok))
    ctx.progress(0.25, None, f"checked {len(body)} records")
    return header, numbers[ok], problems, good


def _valid_lines(body, n_columns: int) -> np.ndarray:
    import pyarrow.compute as pc

    base = r"[ACGTNacgtn]"
    alt = rf"({base}+|\*|<[^>]+>|\.|{base}*[\[\]][^\[\]\t]+[\[\]]{base}*|{base}+\.|\.{base}+)"
    number = r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?"
    pattern = (rf"^[^\t]+\t0*[1-9][0-9]*\t[^\t]*\t{base}+\t{alt}(,{alt})*\t(\.|{number})\t[^\t]*\t[^\t]*")
    ok = pc.match_substring_regex(body, pattern).to_numpy(zero_copy_only=False)
    tabs = pc.count_substring(body, "\t").to_numpy(zero_copy_only=False)
    ok &= (tabs + 1 == n_columns) if n_columns > 8 else (tabs >= 7)
    ok &= ~pc.match_substring_regex(body, r"^([^\t]*\t){7}[^\t]*;;").to_numpy(zero_copy_only=False)
    return ok


def _variant_type(ref: str, alt: str) -> str:
    if alt.startswith("<") or "[" in alt or "]" in alt:
        return "SV"
    if len(ref) == len(alt):
        return "SNV" if len(ref) == 1 else "MNV"
    return "indel"


def _reader(path: Path, name: str):
    from cyvcf2 import VCF

    try:
        return VCF(str(path), gts012=False, lazy=False, threads=1)
    except (OSError, Exception) as exc:  # cyvcf2 raises plain Exception for a bad header
        raise MedStationError(f"{name} could not be read as VCF/BCF ({exc})", kept="nothing was loaded")


def _header_info(vcf) -> tuple[dict[str, str], dict]:
    descriptions, meta = {}, {}
    for item in vcf.header_iter():
        info = item.info()
        if info.get("HeaderType") == "INFO":
            descriptions[info.get("ID")] = info.get("Description", "")
    raw = vcf.raw_header
    for line in raw.splitlines():
        if line.startswith("##fileformat="):
            meta["fileformat"] = line.split("=", 1)[1]
        elif line.startswith(("##VEP=", "##SnpEffVersion=", "##reference=")):
            key, value = line[2:].split("=", 1)
            meta[key] = value[:300]
    meta["contigs"] = {m.group(1): (int(m.group(2)) if m.group(2) else None, m.group(3) or "")
                       for m in re.finditer(r"^##contig=<ID=([^,>]+)(?:.*?[<,]length=(\d+))?(?:.*?assembly=\"?"
                                            r"([^,>\"]+))?", raw, re.MULTILINE)}
    meta["population_resource"] = named_resource(raw)
    meta["population_af_fields"] = frequency_keys(descriptions)["populations"]
    meta["raw_header"] = raw
    return descriptions, meta


class RecordReader:
    """Turns one cyvcf2 record into a table row, asking only for the INFO/FORMAT keys this file declares."""

    def __init__(self, vcf, descriptions: dict[str, str], layout: AnnotationLayout, tumour: int | None,
                 normal: int | None):
        self.layout = layout
        self.tumour, self.normal = tumour, normal
        self.clinvar_keys = [k for k in INFO_CLINVAR if k in descriptions]
        self.flag_keys = [(k, label) for k, label in CLINVAR_FLAGS if k in descriptions]
        self.pop_keys = [k for k in INFO_POPFREQ if k in descriptions]
        self.has_vaf = "TUMOR_VAF" in descriptions
        csq_pop = [f for f in layout.fields if f in ALIASES["gnomad_af"]]
        self.population_field = (self.pop_keys or csq_pop or [""])[0]
        self.has_regions = "STRATIFICATIONS" in descriptions
        self.frequency = frequency_keys(descriptions)
        self.has_sv = "SVTYPE" in descriptions or "END" in descriptions
        # cyvcf2 can crash on FORMAT fields declared Number=. whose values are all missing: read only safe ones
        self.safe_formats = {item.info().get("ID") for item in vcf.header_iter()
                             if item.info().get("HeaderType") == "FORMAT" and item.info().get("Number") != "."}

    def row(self, v) -> list:
        alt = v.ALT[0] if v.ALT else "."
        info = v.INFO
        ann = self.layout.best(info.get(self.layout.key) if self.layout.key else None, alt)
        clinvar = self._clinvar(info, ann)
        popfreq = math.nan
        for key in self.pop_keys:
            value = info.get(key)
            if value is not None:
                popfreq = to_float(value)
                break
        if math.isnan(popfreq) and ann:
            popfreq = to_float(ann.get("gnomad_af"))
        (vaf, depth, alt_reads, gt, ft), (_nv, n_depth, n_alt, _ng, _nf) = self._samples(v)
        if math.isnan(vaf) and self.has_vaf:
            vaf = to_float(info.get("TUMOR_VAF"))
        qual = v.QUAL
        regions = info.get("STRATIFICATIONS") if self.has_regions else None
        return [v.ID or ".", v.REF, alt, math.nan if qual is None else float(qual), ";".join(v.FILTERS) or ".",
                ann.get("gene", ""), first_consequence(ann.get("consequence", "")), ann.get("impact", ""),
                ann.get("hgvsc", ""), ann.get("hgvsp", ""), clinvar, popfreq, ann.get("sift", ""),
                ann.get("polyphen", ""), to_float(ann.get("revel")), to_float(ann.get("cadd")), vaf, depth,
                alt_reads, n_depth, n_alt, gt, ft, _variant_type(v.REF, alt),
                str(regions) if regions is not None else "", str(info.get("SVTYPE") or ""),
                _number(info.get("END")), *record_frequencies(info, self.frequency)]

    def _clinvar(self, info, ann: dict) -> str:
        for key in self.clinvar_keys:
            value = info.get(key)
            if value is not None:
                return normalise_clinvar(value if isinstance(value, str) else "/".join(map(str, value)))
        flags = [label for key, label in self.flag_keys if info.get(key) is not None]
        return normalise_clinvar("/".join(flags)) or normalise_clinvar(ann.get("clin_sig", ""))

    def _samples(self, v):
        empty = (math.nan, math.nan, math.nan, "", "")
        if self.tumour is None:
            return empty, empty
        present = set(v.FORMAT)
        fields = {key: v.format(key) for key in ("AD", "DP", "AF", "FT")
                  if key in present and key in self.safe_formats}
        gt_text = None
        if "GT" in present:
            try:
                gt_text = [_genotype_text(g) for g in v.genotypes]
            except Exception:
                gt_text = None
        tumour = _sample_numbers(fields, gt_text, self.tumour)
        normal = _sample_numbers(fields, gt_text, self.normal) if self.normal is not None else empty
        return tumour, normal


def _number(value) -> float:
    try:
        return float(value) if value is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def _genotype_text(genotype: list) -> str:
    """cyvcf2's [allele, allele, ..., phased] as VCF text ('0|1', './.', '1')."""
    *alleles, phased = genotype
    return ("|" if phased else "/").join("." if a < 0 else str(a) for a in alleles)


def _sample_numbers(fields: dict, gt_text, index: int) -> tuple[float, float, float, str, str]:
    """(VAF, depth, alt reads, GT text, FT) of one sample in one record."""
    ad, dp, af, ft = fields.get("AD"), fields.get("DP"), fields.get("AF"), fields.get("FT")
    vaf = depth = alt_reads = math.nan
    if ad is not None and ad.shape[1] >= 2:
        ref_n, alt_n = float(ad[index, 0]), float(ad[index, 1])
        if ref_n >= 0 and alt_n >= 0:
            depth, alt_reads = ref_n + alt_n, alt_n
            vaf = alt_n / depth if depth > 0 else math.nan
    if math.isnan(vaf) and af is not None:
        vaf = _cell(af, index)
    if dp is not None:
        value = _cell(dp, index)
        depth = value if not math.isnan(value) else depth
    gt = gt_text[index] if gt_text is not None else ""
    flt = str(ft[index]) if ft is not None else ""
    return vaf, depth, alt_reads, gt, "" if flt == "." else flt


def _cell(values, index: int) -> float:
    value = float(values[index][0])
    return value if value > -2 ** 30 and not math.isnan(value) else math.nan


_ROW_NAMES = ["id", "ref", "alt", "qual", "filter", "gene", "consequence", "impact", "hgvsc", "hgvsp", "clinvar",
              "gnomad_af", "sift", "polyphen", "revel", "cadd", "vaf", "depth", "alt_reads", "normal_depth",
              "normal_alt", "gt", "ft", "type", "regions", "svtype", "end", "cohort_af", "cohort_popmax",
              "cohort_an"]


def _genotype_row(v, n: int) -> np.ndarray:
    if "GT" not in v.FORMAT:
        return np.full(n, 2, dtype=np.int8)
    try:
        return v.gt_types.astype(np.int8)
    except Exception:
        return np.full(n, 2, dtype=np.int8)


def load_vcf(path: str | Path, ctx: JobContext | None = None, sample: str | None = None) -> VariantSet:
    """Read a VCF/BCF for one sample (``sample``, else a header-named tumour, else the first); malformed text
    records are skipped and listed in ``problems`` with line numbers."""
    import pandas as pd

    ctx = ctx or null_context()
    path = Path(path)
    if not path.exists():
        raise MedStationError(f"{path} does not exist", kept="nothing was loaded")
    problems: list[LineProblem] = []
    read_path, line_numbers, cleaned, good = path, None, None, None
    if is_bcf(path):
        _check_bcf(path)
    else:
        header, line_numbers, problems, good = scan_text(path, ctx)
        if problems:
            cleaned = tempfile.NamedTemporaryFile("w", suffix=".vcf", delete=False, encoding="utf-8")
            cleaned.writelines(header)
            cleaned.write("\n".join(good.to_pylist()) + "\n")
            cleaned.close()
            read_path = Path(cleaned.name)
    try:
        return _finish(_read(path, read_path, line_numbers, problems, ctx, pd, good, sample))
    except MedStationError:
        raise
    except Exception as exc:  # htslib/cyvcf2 report damage inside records as a plain Exception
        raise MedStationError(f"{path.name} could not be read: a record is damaged ({exc.__class__.__name__}: "
                              f"{str(exc)[:160]})", kept="nothing was loaded") from exc
    finally:
        if cleaned is not None:
            Path(cleaned.name).unlink(missing_ok=True)


def _check_bcf(path: Path) -> None:
    """Refuse a BCF whose compressed blocks are damaged or cut off: its records carry no line numbers to report
    the loss by, so a partly read BCF would silently miss variants."""
    if _is_gzip(path):
        _nothing, damage = inflate(path, keep=False)
        if damage:
            raise MedStationError(f"{path.name} is a damaged BCF: {damage}", kept="nothing was loaded")


def _finish(variants: VariantSet) -> VariantSet:
    """Frequencies, genome build and the shown sample's genotype counts, once the table is read."""
    from medstation.core.genomics.build import detect_build

    header = variants.header
    apply_population(variants.table, header)
    header["assembly"], header["assembly_how"] = detect_build(header, variants.table)
    header.pop("raw_header", None)
    if variants.sample:
        variants.counts = annotate_sample(variants.table, variants.sample)
    else:  # a sites-only file lists its findings without genotypes: every passing record is one
        variants.table["zygosity"] = "not genotyped"
        variants.table["carried"] = passing(variants.table["filter"].to_numpy(dtype=object))
    return variants


def _read(path, read_path, line_numbers, problems, ctx, pd, lines, wanted=None) -> VariantSet:
    vcf = _reader(read_path, path.name)
    descriptions, meta = _header_info(vcf)
    layout = AnnotationLayout.from_header(descriptions)
    meta["annotation"] = layout.key or "none"
    meta["annotated"] = _is_annotated(layout, descriptions)
    samples = list(vcf.samples)
    sample, normal = pick_samples(samples, meta["raw_header"], wanted)
    meta["tumour_sample"] = header_pair(meta["raw_header"])[0] or ""
    t_index = samples.index(sample) if sample else None
    n_index = samples.index(normal) if normal else None
    keep_gt = bool(samples)
    reader = RecordReader(vcf, descriptions, layout, t_index, n_index)
    if lines is not None:
        return _read_text(path, vcf, lines, line_numbers, problems, meta, reader, layout, ctx, sample, normal)
    chroms, positions, rows, gts = [], [], [], []
    expected = len(line_numbers) if line_numbers is not None else 0
    for i, v in enumerate(vcf):
        chroms.append(v.CHROM)
        positions.append(v.POS)
        rows.append(reader.row(v))
        if keep_gt:
            gts.append(_genotype_row(v, len(samples)))
            keep_gt = len(gts) * len(samples) < MAX_GENOTYPE_CELLS
        if i % 5000 == 0:
            ctx.progress(0.25 + 0.7 * (i / expected if expected else 0.5), None, f"read {i} records")
    vcf.close()
    table = pd.DataFrame(rows, columns=_ROW_NAMES)
    table.insert(0, "pos", np.asarray(positions, dtype=np.int64))
    table.insert(0, "chrom", pd.Categorical(chroms))
    lines = np.asarray(line_numbers if line_numbers is not None else np.arange(1, len(table) + 1))
    table.insert(0, "line", lines[: len(table)].astype(np.int64))
    table["classification"] = ""
    table.attrs["population_field"] = reader.population_field
    table["p_valid"] = np.nan
    genotypes = np.vstack(gts) if gts and keep_gt else None
    ctx.progress(1.0, None, f"loaded {len(table)} records")
    return VariantSet(path, samples, sample, normal, table, genotypes, problems, meta)


def _is_annotated(layout: AnnotationLayout, descriptions: dict) -> bool:
    """Whether the file carries consequence or population/clinical annotation at all."""
    return bool(layout.key or any(k in descriptions for k in INFO_CLINVAR + INFO_POPFREQ)
                or any(k in descriptions for k, _label in CLINVAR_FLAGS))


def _read_text(path, vcf, lines, line_numbers, problems, meta, reader, layout, ctx, sample, normal) -> VariantSet:
    from medstation.core.genomics.columns import text_table

    samples = list(vcf.samples)
    ctx.progress(0.3, None, f"parsing {len(lines)} records")
    table, genotypes = text_table(lines, reader, layout, reader.tumour, reader.normal, len(samples))
    if genotypes is None and samples:
        genotypes = _cyvcf2_genotypes(vcf, len(samples), len(lines))
    vcf.close()
    table.insert(0, "line", np.asarray(line_numbers, dtype=np.int64)[: len(table)])
    table["classification"] = ""
    table["p_valid"] = np.nan
    table.attrs["population_field"] = reader.population_field
    ctx.progress(1.0, None, f"loaded {len(table)} records")
    return VariantSet(path, samples, sample, normal, table, genotypes, problems, meta)


def _cyvcf2_genotypes(vcf, n_samples: int, n_records: int) -> np.ndarray | None:
    if n_records * n_samples >= MAX_GENOTYPE_CELLS:
        return None
    return np.vstack([_genotype_row(v, n_samples) for v in vcf]) if n_records else None
