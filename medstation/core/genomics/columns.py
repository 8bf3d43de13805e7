"""Columnar parsing of text VCF records with Arrow compute kernels (C++), not a Python loop per record.

The header (INFO/FORMAT definitions, samples, annotation layout) is read by cyvcf2; the already validated record
lines are split into columns here with pyarrow.compute (split, regex extract, casts). Annotation strings with
several transcripts still go through ``AnnotationLayout.best`` one by one, which picks the most severe consequence;
every other per-value conversion runs once per distinct value (VCF columns repeat a lot).
"""
from __future__ import annotations

import math
import re

import numpy as np

from medstation.core.genomics.annotate import ALIASES, first_consequence, normalise_clinvar, to_float
from medstation.core.genomics.frequency import frequency_columns

MAX_TEXT_GENOTYPE_CELLS = 5_000_000
_NUMBER = r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$"


def gt_code(gt) -> int:
    """cyvcf2's (htslib's) codes: 0 hom-ref, 1 het, 2 unknown, 3 hom-alt.

    As htslib does: a fully missing call is unknown; missing alleles next to called ones are ignored for
    hom-ref ('0/.' is 0) but make an ALT call heterozygous ('./1' is 1); two different ALT alleles ('1/2') are
    heterozygous; a haploid ALT call ('1') is hom-alt.
    """
    if not isinstance(gt, str) or not gt:
        return 2
    alleles = re.split(r"[/|]", gt)
    called = [a for a in alleles if a not in (".", "")]
    if not called:
        return 2
    if all(a == "0" for a in called):
        return 0
    if len(called) < len(alleles) or len(set(called)) > 1:
        return 1
    return 3


def _clean(value) -> str:
    if not isinstance(value, str) or value in ("", "."):
        return ""
    if "&" in value:  # per-protein lists such as 'T&.&T': keep the distinct known values
        value = "&".join(dict.fromkeys(v for v in value.split("&") if v not in ("", ".")))
    return value


def map_unique(arr, fn, default=""):
    """numpy object array of ``fn(value)`` for an Arrow string array, calling ``fn`` once per distinct value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    encoded = pc.dictionary_encode(arr)
    mapped = [fn(v) for v in encoded.dictionary.to_pylist()] + [default]
    table = np.empty(len(mapped), dtype=object)
    table[:] = mapped
    index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return table[index]


def to_numbers(arr) -> np.ndarray:
    """float64 (NaN where the text is not a plain number)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    valid = pc.fill_null(pc.match_substring_regex(arr, _NUMBER), False)
    cleaned = pc.if_else(valid, arr, pa.scalar(None, arr.type))
    return pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)


def info_values(info, key: str):
    """The raw value of INFO ``key`` in every record (null where absent)."""
    return _info(info, key)


def _info(info, key: str):
    import pyarrow.compute as pc

    return pc.struct_field(pc.extract_regex(info, rf"(?:^|;){re.escape(key)}=(?P<v>[^;]*)"), [0])


def _flag(info, key: str) -> np.ndarray:
    import pyarrow.compute as pc

    hit = pc.match_substring_regex(info, rf"(?:^|;){re.escape(key)}(?:;|$)")
    return pc.fill_null(hit, False).to_numpy(zero_copy_only=False)


def _fields(arr, sep: str, count: int):
    """The first ``count`` ``sep``-separated fields of each string (padded, so short values give '')."""
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = pc.binary_join_element_wise(arr, pa.scalar(sep * count, arr.type), pa.scalar("", arr.type))
    parts = pc.split_pattern(padded, sep)
    return [pc.list_element(parts, i) for i in range(count)]


def annotation_columns(info, layout, alts) -> dict[str, np.ndarray]:
    """Best-transcript fields (ALIASES keys) for every row; '' where absent."""
    import pyarrow.compute as pc

    n = len(info)
    out = {name: np.full(n, "", dtype=object) for name in ALIASES}
    if layout.key is None:
        return out
    raw = _info(info, layout.key)
    present = pc.is_valid(raw).to_numpy(zero_copy_only=False)
    if not present.any():
        return out
    multi = pc.fill_null(pc.match_substring(raw, ","), False).to_numpy(zero_copy_only=False)
    single = present & ~multi
    if layout.key != "EFF" and single.any():
        wanted = sorted({i for indexes in layout.index.values() for i in indexes})
        fields = _fields(pc.filter(raw, single), "|", max(wanted) + 1) if wanted else []
        for name, indexes in layout.index.items():
            column = np.full(int(single.sum()), "", dtype=object)
            for i in reversed(indexes):  # the first alias that has a value wins
                values = map_unique(fields[i], _clean)
                column = np.where(values != "", values, column)
            out[name][single] = column
        rest = present & multi
    else:
        rest = present
    for row in np.flatnonzero(rest):
        best = layout.best(raw[int(row)].as_py(), alts[row])
        for name in ALIASES:
            out[name][row] = best.get(name, "")
    return out


def _tier_counts(values: dict, ref: np.ndarray, alt: np.ndarray):
    """(ref reads, alt reads) from Strelka's tier-1 counts: AU/CU/GU/TU for SNVs, TAR/TIR for indels."""
    first = {key: to_numbers(_fields(values[key], ",", 1)[0]) for key in ("AU", "CU", "GU", "TU", "TAR", "TIR")
             if key in values}
    if "TIR" in first and "TAR" in first:
        return first["TAR"], first["TIR"]
    if len(first) < 4:
        return None
    by_base = np.vstack([first[f"{b}U"] for b in "ACGT"] + [np.full(len(ref), np.nan)])
    index = {"A": 0, "C": 1, "G": 2, "T": 3}
    pick = (lambda bases: by_base[np.array([index.get(str(b).upper(), 4) for b in bases]), np.arange(len(bases))])
    return pick(ref), pick(alt)


def sample_columns(fmt, samples, index: int | None, n: int, ref=None, alleles=None) -> tuple[np.ndarray, ...]:
    """(VAF, depth, alt reads, GT text, FT text) for one sample, parsed per distinct FORMAT string; read counts
    from AD, else Strelka's tier-1 base/indel counts (with ``ref`` and the first ALT ``alleles``), else AF."""
    import pyarrow.compute as pc

    vaf, depth, alt = (np.full(n, np.nan) for _ in range(3))
    gt = np.full(n, "", dtype=object)
    ft = np.full(n, "", dtype=object)
    if index is None or samples is None:
        return vaf, depth, alt, gt, ft
    column = pc.list_element(samples, index)
    formats = fmt.to_numpy(zero_copy_only=False)
    for layout in set(formats.tolist()) - {None}:
        rows = formats == layout
        keys = layout.split(":")
        values = dict(zip(keys, _fields(pc.filter(column, rows), ":", len(keys))))
        m = int(rows.sum())
        v, d, a = np.full(m, np.nan), np.full(m, np.nan), np.full(m, np.nan)
        if "AD" in values:
            ref_n, alt_n = (to_numbers(x) for x in _fields(values["AD"], ",", 2))
            d, a = ref_n + alt_n, alt_n
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(d > 0, alt_n / d, np.nan)
        elif ref is not None and (tiers := _tier_counts(values, ref[rows], alleles[rows])) is not None:
            d, a = tiers[0] + tiers[1], tiers[1]
            with np.errstate(invalid="ignore", divide="ignore"):
                v = np.where(d > 0, a / d, np.nan)
        if "AF" in values:
            v = np.where(np.isnan(v), to_numbers(_fields(values["AF"], ",", 1)[0]), v)
        if "DP" in values:
            dp = to_numbers(values["DP"])
            d = np.where(np.isnan(dp), d, dp)
        if "GT" in values:
            gt[rows] = map_unique(values["GT"], _gt_text, "")
        if "FT" in values:
            ft[rows] = map_unique(values["FT"], _clean, "")
        vaf[rows], depth[rows], alt[rows] = v, d, a
    return vaf, depth, alt, gt, ft


def _gt_text(value) -> str:
    """The GT as written ('0|1', '1/2', '1', './.'), or '' when absent; its code comes from ``gt_code``."""
    return value if isinstance(value, str) else ""


def genotype_matrix(fmt, samples, n_samples: int, n: int) -> np.ndarray | None:
    """records x samples genotype codes from text, or None when too large to split as text."""
    import pyarrow.compute as pc

    if samples is None or not n_samples or n * n_samples > MAX_TEXT_GENOTYPE_CELLS:
        return None
    has_gt = pc.fill_null(pc.starts_with(fmt, "GT"), False).to_numpy(zero_copy_only=False)
    out = np.full((n, n_samples), 2, dtype=np.int8)
    for j in range(n_samples):
        first = _fields(pc.list_element(samples, j), ":", 1)[0]
        out[:, j] = np.where(has_gt, map_unique(first, gt_code, 2).astype(np.int8), 2)
    return out


def variant_types(ref: np.ndarray, alt: np.ndarray) -> np.ndarray:
    ref_len = np.fromiter((len(r) for r in ref), dtype=np.int64, count=len(ref))
    alt_len = np.fromiter((len(a) for a in alt), dtype=np.int64, count=len(alt))
    symbolic = np.fromiter((a[:1] == "<" or "[" in a or "]" in a for a in alt), dtype=bool, count=len(alt))
    kind = np.where(ref_len == alt_len, np.where(ref_len == 1, "SNV", "MNV"), "indel").astype(object)
    kind[symbolic] = "SV"
    return kind


def _split_lines(lines: list[str], n_columns: int):
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = lines if isinstance(lines, (pa.Array, pa.ChunkedArray)) else pa.array(lines, pa.large_string())
    arr = pc.utf8_rtrim(arr, characters="\r\n")
    if n_columns < 10:  # sites-only files: give every line empty FORMAT/sample columns
        arr = pc.binary_join_element_wise(arr, pa.scalar("\t" * (10 - n_columns), arr.type),
                                          pa.scalar("", arr.type))
    parts = pc.split_pattern(arr, "\t", max_splits=9)
    return [pc.list_element(parts, i) for i in range(10)]


def text_table(lines: list[str], reader, layout, tumour: int | None, normal: int | None, n_samples: int):
    """The columns of RecordReader.row for every line at once; returns (DataFrame, genotype matrix or None)."""
    import pandas as pd
    import pyarrow.compute as pc

    n = len(lines)
    cols = _split_lines(lines, 9 + n_samples if n_samples else 8)
    alts = _fields(cols[4], ",", 1)[0].to_numpy(zero_copy_only=False)
    info = cols[7]
    ann = annotation_columns(info, layout, alts)
    clinvar = np.full(n, "", dtype=object)
    for key in reader.clinvar_keys:
        value = map_unique(_info(info, key), normalise_clinvar, "")
        clinvar = np.where(clinvar == "", value, clinvar)
    flags = [(label, _flag(info, key)) for key, label in reader.flag_keys]
    for row in np.flatnonzero(clinvar == ""):
        hit = [label for label, mask in flags if mask[row]]
        clinvar[row] = normalise_clinvar("/".join(hit)) or normalise_clinvar(ann["clin_sig"][row])
    popfreq = np.full(n, np.nan)
    for key in reader.pop_keys:
        value = map_unique(_info(info, key), to_float, math.nan).astype(float)
        popfreq = np.where(np.isnan(popfreq), value, popfreq)
    missing = np.isnan(popfreq) & (ann["gnomad_af"] != "")
    popfreq[missing] = [to_float(v) for v in ann["gnomad_af"][missing]]
    samples = pc.split_pattern(cols[9], "\t") if n_samples else None
    ref = cols[3].to_numpy(zero_copy_only=False)
    vaf, depth, alt_reads, gt, ft = sample_columns(cols[8], samples, tumour, n, ref, alts)
    _nv, n_depth, n_alt, _ng, _nf = sample_columns(cols[8], samples, normal, n, ref, alts)
    if reader.has_vaf:
        vaf = np.where(np.isnan(vaf), to_numbers(_info(info, "TUMOR_VAF")), vaf)
    regions = map_unique(_info(info, "STRATIFICATIONS"), str, "") if reader.has_regions else np.full(n, "", object)
    table = pd.DataFrame({
        "chrom": pd.Categorical(cols[0].to_numpy(zero_copy_only=False)),
        "pos": pc.cast(cols[1], "int64").to_numpy(), "id": cols[2].to_numpy(zero_copy_only=False), "ref": ref,
        "alt": alts, "qual": to_numbers(cols[5]), "filter": cols[6].to_numpy(zero_copy_only=False),
        "gene": ann["gene"], "consequence": np.array([first_consequence(c) if "&" in c else c
                                                     for c in ann["consequence"]], dtype=object),
        "impact": ann["impact"], "hgvsc": ann["hgvsc"], "hgvsp": ann["hgvsp"], "clinvar": clinvar,
        "gnomad_af": popfreq, "sift": ann["sift"], "polyphen": ann["polyphen"],
        "revel": np.array([to_float(v) if v else math.nan for v in ann["revel"]], dtype=float),
        "cadd": np.array([to_float(v) if v else math.nan for v in ann["cadd"]], dtype=float),
        "vaf": vaf, "depth": depth, "alt_reads": alt_reads, "normal_depth": n_depth, "normal_alt": n_alt,
        "gt": gt, "ft": ft, "type": variant_types(ref, alts), "regions": regions,
        "svtype": map_unique(_info(info, "SVTYPE"), _clean, "") if reader.has_sv else np.full(n, "", object),
        "end": to_numbers(_info(info, "END")) if reader.has_sv else np.full(n, np.nan),
        **frequency_columns(info, reader)})
    return table, genotype_matrix(cols[8], samples, n_samples, n)
