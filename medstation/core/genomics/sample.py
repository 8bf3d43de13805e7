"""Which sample a report is about, and which records are that sample's own findings.

A multi-sample VCF lists every record that any sample carries. For one sample, a record is a finding only when the
sample carries the ALT allele (heterozygous or homozygous ALT; in a somatic file without genotypes, ALT reads or an
allele fraction above zero in the tumour) and the call passed both the record FILTER and the sample's own FORMAT/FT.
Everything else - homozygous reference, no-call, filtered - is counted, never prioritised or classified.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from medstation.core.errors import MedStationError

NORMAL_NAMES = re.compile(r"(normal|germline|_N$|BL_|BL$|_BL)", re.IGNORECASE)
TUMOUR_NAMES = re.compile(r"(tumou?r|_T\d*$|^T\d*$|cancer|metast)", re.IGNORECASE)
PASSING = ("PASS", ".", "")
# genotype codes shared with cyvcf2: 0 hom-ref, 1 het, 2 unknown, 3 hom-alt
HOM_REF, HET, NO_CALL, HOM_ALT = 0, 1, 2, 3
ZYGOSITY = {HOM_REF: "hom-ref", HET: "het", NO_CALL: "no-call", HOM_ALT: "hom-alt"}


def header_pair(raw_header: str) -> tuple[str | None, str | None]:
    """(tumour, normal) named by ``##tumor_sample=`` / ``##normal_sample=`` header lines (Mutect2 writes them)."""
    tumour = re.search(r"^##tumou?r_sample=(.+)$", raw_header, re.MULTILINE | re.IGNORECASE)
    normal = re.search(r"^##normal_sample=(.+)$", raw_header, re.MULTILINE | re.IGNORECASE)
    return (tumour.group(1).strip() if tumour else None), (normal.group(1).strip() if normal else None)


def pick_samples(samples: list[str], raw_header: str = "", wanted: str | None = None) -> tuple[str, str | None]:
    """(the sample the report is about, its matched normal or None).

    ``wanted`` is the user's choice; otherwise a tumour/normal pair named in the header, else a two-sample file
    whose names say which is the normal, else the first sample.
    """
    if not samples:
        if wanted:
            raise MedStationError(f"sample {wanted!r} was asked for, but the file has no sample columns",
                                  kept="nothing was loaded")
        return "", None
    tumour, normal = header_pair(raw_header)
    normal = normal if normal in samples else None
    tumour = tumour if tumour in samples else None
    if normal is None and tumour is None and len(samples) == 2:
        normals = [s for s in samples if NORMAL_NAMES.search(s)]
        tumours = [s for s in samples if TUMOUR_NAMES.search(s)]
        if len(normals) == 1:
            normal = normals[0]
        elif len(tumours) == 1:
            normal = next(s for s in samples if s != tumours[0])
    if normal is not None and tumour is None and len(samples) == 2:
        tumour = next(s for s in samples if s != normal)
    if wanted:
        if wanted not in samples:
            shown = ", ".join(samples[:8]) + (f" and {len(samples) - 8} more" if len(samples) > 8 else "")
            raise MedStationError(f"sample {wanted!r} is not in the file (its samples: {shown})",
                                  kept="nothing was loaded")
        return wanted, (normal if wanted == tumour and normal != wanted else None)
    if tumour is not None:
        return tumour, normal
    return samples[0], None


def passing(values) -> np.ndarray:
    """True where a FILTER or FT value lets a call through ('PASS', '.' or empty)."""
    text = np.asarray(values, dtype=object)
    return np.isin(text.astype(str), PASSING)


def genotype_codes(table) -> np.ndarray:
    """The shown sample's genotype code per record, from the table's text GT (2 where there is no GT)."""
    from medstation.core.genomics.columns import gt_code

    gt = table["gt"].to_numpy(dtype=object)
    uniques, inverse = np.unique(gt.astype(str), return_inverse=True)
    return np.array([gt_code(u) for u in uniques], dtype=np.int8)[inverse] if len(gt) else np.zeros(0, np.int8)


def presence(table) -> tuple[np.ndarray, np.ndarray]:
    """(genotype code, carries ALT) per record for the shown sample, before any FILTER/FT test.

    Without a GT for the sample (somatic callers such as Strelka), ALT reads or an allele fraction above zero
    mean the ALT allele is present; such calls get the code HET (one ALT allele seen, zygosity not called).
    """
    codes = genotype_codes(table)
    has_gt = (table["gt"].to_numpy(dtype=object).astype(str) != "")
    alt_reads = np.nan_to_num(table["alt_reads"].to_numpy(dtype=float), nan=0.0)
    vaf = np.nan_to_num(table["vaf"].to_numpy(dtype=float), nan=0.0)
    somatic_present = ~has_gt & ((alt_reads > 0) | (vaf > 0))
    somatic_absent = ~has_gt & ~somatic_present & (~np.isnan(table["vaf"].to_numpy(dtype=float))
                                                   | ~np.isnan(table["alt_reads"].to_numpy(dtype=float)))
    codes = codes.copy()
    codes[somatic_present] = HET
    codes[somatic_absent] = HOM_REF
    carries = (codes == HET) | (codes == HOM_ALT)
    return codes, carries


@dataclass
class SampleCounts:
    sample: str
    records: int
    carried: int        # PASS records where the sample carries ALT
    het: int
    hom_alt: int
    no_call: int
    hom_ref: int
    filtered: int       # the sample carries ALT but the record FILTER or the sample's FT failed
    somatic_presence: bool = False   # presence decided from read counts (no GT)

    def sentence(self) -> str:
        text = (f"{self.records} records; the sample carries {self.carried}: {self.het} het, {self.hom_alt} "
                f"hom-alt; {self.no_call} no-call")
        if self.somatic_presence:
            text = (f"{self.records} records; the sample carries {self.carried} (ALT reads or allele fraction "
                    f"above zero, no genotype called); {self.no_call} no-call")
        extra = [f"{self.hom_ref} homozygous reference"]
        if self.filtered:
            extra.append(f"{self.filtered} carried but failing FILTER/FT (not findings)")
        return text + "; " + "; ".join(extra)

    def as_dict(self) -> dict:
        return dict(self.__dict__, sentence=self.sentence())


def annotate_sample(table, sample: str) -> SampleCounts:
    """Add ``zygosity`` and ``carried`` columns for the shown sample; return its counts."""
    codes, carries = presence(table)
    ok = passing(table["filter"].to_numpy(dtype=object)) & passing(table["ft"].to_numpy(dtype=object))
    carried = carries & ok
    zygosity = np.array([ZYGOSITY[int(c)] for c in range(4)], dtype=object)[codes]
    has_gt = table["gt"].to_numpy(dtype=object).astype(str) != ""
    zygosity[~has_gt & carries] = "present"
    table["zygosity"] = zygosity
    table["carried"] = carried
    return SampleCounts(sample, len(table), int(carried.sum()), int((carried & (codes == HET)).sum()),
                        int((carried & (codes == HOM_ALT)).sum()), int((codes == NO_CALL).sum()),
                        int((codes == HOM_REF).sum()), int((carries & ~ok).sum()),
                        somatic_presence=bool((~has_gt & carries).any() and not has_gt.any()))


_TRANSITIONS = ("AG", "GA", "CT", "TC")


def sample_summary(table, counts: SampleCounts | None) -> dict:
    """What any genotyped file supports about the sample's own variants: counts by type and zygosity, Ti/Tv of
    its SNVs and its het/hom-alt ratio."""
    carried = table["carried"].to_numpy(dtype=bool) if "carried" in table.columns else np.zeros(len(table), bool)
    own = table[carried]
    snv = own[own["type"] == "SNV"]
    pairs = snv["ref"].astype(str).str.upper() + snv["alt"].astype(str).str.upper()
    ti = int(pairs.isin(_TRANSITIONS).sum())
    tv = len(pairs) - ti
    het, hom = (counts.het, counts.hom_alt) if counts else (0, 0)
    return {"counts": counts.as_dict() if counts else None,
            "by_type": {str(k): int(v) for k, v in own["type"].value_counts().items()},
            "ti": int(ti), "tv": int(tv), "ti_tv": round(ti / tv, 3) if tv else None,
            "het_hom_ratio": round(het / hom, 3) if hom else None,
            "by_chrom": {str(k): int(v) for k, v in own["chrom"].astype(str).value_counts().head(30).items()}}


def cohort_counts(variants) -> dict[str, dict[str, int]]:
    """Genotype counts of every sample from the genotype matrix, for choosing a sample: het, hom-alt, no-call and
    hom-ref over all records, and ``carried`` (het or hom-alt where the record FILTER passes; a sample's own FT
    is applied once that sample is shown)."""
    gts = variants.genotypes
    if gts is None:
        return {}
    ok = passing(variants.table["filter"].to_numpy(dtype=object))[:, None]
    het, hom = gts == HET, gts == HOM_ALT
    columns = {"het": het.sum(axis=0), "hom_alt": hom.sum(axis=0), "no_call": (gts == NO_CALL).sum(axis=0),
               "hom_ref": (gts == HOM_REF).sum(axis=0), "carried": ((het | hom) & ok).sum(axis=0)}
    return {s: {k: int(v[i]) for k, v in columns.items()} for i, s in enumerate(variants.samples)}
