"""Reading what a VCF already carries: VEP CSQ, SnpEff ANN (and the older EFF), ClinVar and population frequencies.

Each record's transcript annotations are reduced to the most severe one (by IMPACT, then by the order of Sequence
Ontology consequences VEP uses), which is what a clinician scans the table for.
"""
from __future__ import annotations

import math
import re

IMPACT_RANK = {"HIGH": 3, "MODERATE": 2, "LOW": 1, "MODIFIER": 0}
# Most to least severe (Ensembl VEP's ordering, abridged)
SO_ORDER = [
    "transcript_ablation", "splice_acceptor_variant", "splice_donor_variant", "stop_gained", "frameshift_variant",
    "stop_lost", "start_lost", "transcript_amplification", "inframe_insertion", "inframe_deletion",
    "missense_variant", "protein_altering_variant", "splice_region_variant", "splice_donor_5th_base_variant",
    "incomplete_terminal_codon_variant", "start_retained_variant", "stop_retained_variant", "synonymous_variant",
    "coding_sequence_variant", "mature_miRNA_variant", "5_prime_UTR_variant", "3_prime_UTR_variant",
    "non_coding_transcript_exon_variant", "intron_variant", "NMD_transcript_variant",
    "non_coding_transcript_variant", "upstream_gene_variant", "downstream_gene_variant", "TFBS_ablation",
    "regulatory_region_variant", "intergenic_variant"]
SO_RANK = {name: i for i, name in enumerate(SO_ORDER)}
LOF = {"transcript_ablation", "splice_acceptor_variant", "splice_donor_variant", "stop_gained",
       "frameshift_variant", "start_lost"}

# Field names used by VEP, SnpEff and common plug-ins, mapped to MedStation's names
ALIASES = {
    "consequence": ("Consequence", "Annotation"),
    "impact": ("IMPACT", "Annotation_Impact"),
    "gene": ("SYMBOL", "Gene_Name"),
    "hgvsc": ("HGVSc", "HGVS.c"),
    "hgvsp": ("HGVSp", "HGVS.p"),
    "clin_sig": ("CLIN_SIG",),
    "gnomad_af": ("gnomAD_AF", "gnomADe_AF", "gnomADg_AF", "GnomadExomes_AF", "GnomadGenomes_AF", "MAX_AF",
                  "gnomAD_exomes_AF", "gnomAD_genomes_AF"),
    "sift": ("SIFT", "SIFT_pred", "SIFT4G_pred"),
    "polyphen": ("PolyPhen", "Polyphen2_HVAR_pred"),
    "revel": ("REVEL", "REVEL_score"),
    "cadd": ("CADD_PHRED", "CADD_phred"),
}
INFO_CLINVAR = ("CLNSIG", "CLIN_SIG", "ClinVar_CLNSIG")
INFO_POPFREQ = ("gnomAD_AF", "gnomad_AF", "AF_gnomad", "gnomAD_AF_popmax", "AF_popmax", "aaf_exac_all_float",
                "aaf_adj_exac_all_float", "ExAC_AF", "MAX_AF")
CLINVAR_FLAGS = (("clinvar_pathogenic", "Pathogenic"), ("clinvar_likely_pathogenic", "Likely_pathogenic"),
                 ("clinvar_drug_response", "drug_response"))


class AnnotationLayout:
    """Where each wanted field sits in a file's CSQ/ANN/EFF strings, read from the VCF header."""

    def __init__(self, key: str | None, fields: list[str]):
        self.key = key
        self.fields = fields
        self.index = {}
        for name, aliases in ALIASES.items():
            self.index[name] = [fields.index(a) for a in aliases if a in fields]

    @classmethod
    def from_header(cls, info_descriptions: dict[str, str]) -> "AnnotationLayout":
        for key in ("CSQ", "ANN", "EFF"):
            text = info_descriptions.get(key)
            if text is None:
                continue
            if key == "EFF":
                return cls("EFF", ["Annotation", "Annotation_Impact", "Functional_Class", "Codon_Change",
                                   "HGVS.p", "Amino_Acid_Length", "Gene_Name"])
            match = re.search(r"Format:\s*'?([^'\"]+)", text)
            if match:
                return cls(key, [f.strip() for f in match.group(1).split("|")])
        return cls(None, [])

    def best(self, value: str | None, alt: str | None = None) -> dict[str, str]:
        """The most severe transcript annotation in one record's CSQ/ANN value (``{}`` when absent)."""
        if not value or self.key is None:
            return {}
        entries = value.split(",")
        if self.key == "EFF":
            entries = [_eff_to_fields(e) for e in entries]
        else:
            entries = [e.split("|") for e in entries]
            if alt and self.fields and self.fields[0] == "Allele":
                own = [e for e in entries if e and e[0] == alt]
                entries = own or entries
        best = max(entries, key=self._severity)
        return {name: self._get(best, name) for name in ALIASES}

    def _get(self, parts: list[str], name: str) -> str:
        for i in self.index.get(name, ()):
            if i < len(parts) and parts[i] not in ("", "."):
                value = parts[i]
                if "&" in value:  # per-protein lists such as 'T&.&T': keep the distinct known values
                    value = "&".join(dict.fromkeys(v for v in value.split("&") if v not in ("", ".")))
                if value:
                    return value
        return ""

    def _severity(self, parts: list[str]) -> tuple[int, int]:
        impact = IMPACT_RANK.get(self._get(parts, "impact"), -1)
        terms = self._get(parts, "consequence").split("&")
        rank = min((SO_RANK.get(t, len(SO_ORDER)) for t in terms), default=len(SO_ORDER))
        return impact, -rank


EFF_TO_SO = {
    "NON_SYNONYMOUS_CODING": "missense_variant", "SYNONYMOUS_CODING": "synonymous_variant",
    "STOP_GAINED": "stop_gained", "STOP_LOST": "stop_lost", "START_LOST": "start_lost",
    "FRAME_SHIFT": "frameshift_variant", "SPLICE_SITE_DONOR": "splice_donor_variant",
    "SPLICE_SITE_ACCEPTOR": "splice_acceptor_variant", "CODON_INSERTION": "inframe_insertion",
    "CODON_DELETION": "inframe_deletion", "UTR_5_PRIME": "5_prime_UTR_variant", "UTR_3_PRIME": "3_prime_UTR_variant",
    "INTRON": "intron_variant", "UPSTREAM": "upstream_gene_variant", "DOWNSTREAM": "downstream_gene_variant",
    "INTERGENIC": "intergenic_variant", "EXON": "non_coding_transcript_exon_variant",
}


def _eff_to_fields(entry: str) -> list[str]:
    effect, _, rest = entry.partition("(")
    parts = rest.rstrip(")").split("|")
    get = (lambda i: parts[i] if i < len(parts) else "")
    return [EFF_TO_SO.get(effect, effect.lower()), get(0), get(1), get(2), get(3), get(4), get(5)]


def first_consequence(consequence: str) -> str:
    """The most severe SO term in an '&'-joined consequence string."""
    terms = [t for t in consequence.split("&") if t]
    return min(terms, key=lambda t: SO_RANK.get(t, len(SO_ORDER))) if terms else ""


def to_float(value) -> float:
    """A number from an INFO/CSQ value ('0.01', '0.01&0.02', (0.1,), '.', None) - the maximum when several."""
    if value is None:
        return math.nan
    if isinstance(value, (tuple, list)):
        values = [to_float(v) for v in value]
        values = [v for v in values if not math.isnan(v)]
        return max(values) if values else math.nan
    if isinstance(value, (int, float)):
        return float(value)
    best = math.nan
    for piece in re.split(r"[&,|]", str(value)):
        try:
            number = float(piece)
        except ValueError:
            continue
        best = number if math.isnan(best) else max(best, number)
    return best


def normalise_clinvar(value: str) -> str:
    """ClinVar significance as words ('Pathogenic/Likely_pathogenic' -> 'Pathogenic/Likely pathogenic')."""
    if not value:
        return ""
    text = str(value).replace("&", "/").replace(",", "/").replace("_", " ").strip()
    return "" if text in (".", "not provided") else text
