"""Pharmacogenomics: star alleles and diplotypes from a VCF, phenotypes and CPIC recommendations.

Only what the VCF covers is called. A defining position with no record (or a no-call) is "not tested": alleles
that need it are not considered, and a gene with none of its positions covered is reported as not tested rather
than assumed to be reference. Genotypes are unphased, so a diplotype is the pair of alleles that explains the most
observed defining variants; equally good pairs are reported as alternatives.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from medstation.core.genomics.build import UNKNOWN, norm_chrom
from medstation.core.genomics.packs import pgx_pack
from medstation.core.genomics.pgx_structural import (NOT_TESTED_SV, UNCALLED_GENES, WHOLE_GENE_DELETION,
                                                     structural_alleles, structural_records, whole_gene_events)

CALLED_GENES = ("CYP2C19", "CYP2C9", "VKORC1", "SLCO1B1", "TPMT", "NUDT15", "DPYD", "CYP3A5", "CYP2B6", "UGT1A1",
                "CYP4F2", "ABCG2")
# CPIC's warfarin guideline doses by algorithm (no table of phenotypes in pypgx), and VKORC1 has no star alleles
VKORC1_SENSITIVITY = {0: "rs9923231 G/G: typical warfarin sensitivity",
                      1: "rs9923231 G/A: increased warfarin sensitivity",
                      2: "rs9923231 A/A: highly increased warfarin sensitivity"}
WARFARIN_TEXT = ("Dose warfarin with the CPIC algorithm (CYP2C9, VKORC1, CYP4F2 genotypes plus clinical factors); "
                 "see the CPIC warfarin guideline")


@dataclass
class Site:
    key: str          # "10-94781859-G-A"
    chrom: str
    pos: int
    ref: str
    alt: str
    rsid: str = ""


@dataclass
class GeneCall:
    gene: str
    status: str                  # "called", "partially tested", "not tested", "no match"
    diplotype: str = ""
    phenotype: str = ""
    activity_score: float | None = None
    alternatives: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)      # defining variants seen, with dosage
    untested: list[str] = field(default_factory=list)      # defining positions the VCF does not cover
    not_assessed: list[str] = field(default_factory=list)  # alleles that need an untested position
    n_sites: int = 0
    structural: list[str] = field(default_factory=list)    # structurally defined alleles and how they stand
    note: str = ""

    @property
    def tested(self) -> int:
        return self.n_sites - len(self.untested)

    def as_dict(self) -> dict:
        return {"gene": self.gene, "status": self.status, "diplotype": self.diplotype, "phenotype": self.phenotype,
                "activity_score": self.activity_score, "alternatives": self.alternatives,
                "observed": self.observed, "positions_tested": self.tested, "positions_total": self.n_sites,
                "untested": self.untested, "alleles_not_assessed": self.not_assessed,
                "structural": self.structural, "note": self.note}


@dataclass
class DrugAdvice:
    drug: str
    genes: str
    phenotypes: str
    recommendation: str
    cpic_level: str
    guideline: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class PgxResult:
    build: str
    calls: list[GeneCall]
    advice: list[DrugAdvice]
    source: str
    build_how: str = ""

    def not_tested_structural(self) -> list[str]:
        """One line per gene whose structurally defined alleles were not tested (page 1 of the report)."""
        lines = []
        for call in self.calls:
            names = [s.split(" ")[0] for s in call.structural if NOT_TESTED_SV in s]
            if names:
                lines.append(f"{call.gene} {', '.join(names)} - {NOT_TESTED_SV}")
        return lines + [f"{gene} (all alleles) - {NOT_TESTED_SV}" for gene in UNCALLED_GENES]

    def as_dict(self) -> dict:
        return {"build": self.build, "build_how": self.build_how, "source": self.source,
                "genes": [c.as_dict() for c in self.calls], "recommendations": [a.as_dict() for a in self.advice],
                "not_tested_structural": self.not_tested_structural(),
                "uncalled_genes": [{"gene": g, "status": NOT_TESTED_SV, "why": why}
                                   for g, why in UNCALLED_GENES.items()]}


def alt_dosage(gt: str) -> int | None:
    """Copies of the first ALT allele in a GT ('0/1' 1, '1|1' 2, '1/2' 1, '2/2' 0), None for a no-call."""
    alleles = [a for a in str(gt).replace("|", "/").split("/") if a not in ("", ".")]
    if not alleles:
        return None
    return sum(a == "1" for a in alleles)


def genotype_lookup(table) -> dict[tuple[str, int], list[tuple[str, str, int | None]]]:
    """(chrom, pos) -> [(ref, alt, alt dosage or None)] for the shown sample; a record whose FILTER or the
    sample's FT failed counts as not tested at that position."""
    from medstation.core.genomics.sample import passing

    ok = passing(table["filter"].to_numpy(dtype=object))
    if "ft" in table.columns:
        ok &= passing(table["ft"].to_numpy(dtype=object))
    lookup: dict[tuple[str, int], list] = {}
    for chrom, pos, ref, alt, gt, good in zip(table["chrom"].astype(str), table["pos"], table["ref"], table["alt"],
                                              table["gt"], ok):
        lookup.setdefault((norm_chrom(chrom), int(pos)), []).append((ref, alt, alt_dosage(gt) if good else None))
    return lookup


def _site_dosage(site: Site, lookup) -> int | None:
    """Copies of the site's ALT allele, 0 when the position was genotyped without it, None when not tested."""
    records = lookup.get((site.chrom, site.pos))
    if not records:
        return None
    genotyped = [r for r in records if r[2] is not None]
    if not genotyped:
        return None
    for ref, alt, count in genotyped:
        if ref.upper() == site.ref.upper() and alt.upper() == site.alt.upper():
            return count
    return 0


class GeneTables:
    """One gene's allele definitions, phenotype rules and recommendations for one genome build."""

    def __init__(self, gene: str, build: str, pack):
        self.gene, self.build = gene, build
        self.info = next(r for r in pack.rows("gene-table.csv") if r["Gene"] == gene)
        self.method = self.info["PhenotypeMethod"]
        self.default = self.info[f"{build}Default"]
        self.alleles: dict[str, list[Site]] = {}
        self.function: dict[str, str] = {}
        self.score: dict[str, float] = {}
        rsids = {r[f"{build}Name"]: r["rsID"] for r in pack.rows("variant-table.csv") if r["Gene"] == gene}
        for row in pack.rows("allele-table.csv"):
            if row["Gene"] != gene:
                continue
            core = row[f"{build}Core"]
            self.function[row["StarAllele"]] = row["Function"]
            if row["ActivityScore"] not in ("N/A", ""):
                self.score[row["StarAllele"]] = float(row["ActivityScore"])
            if core in ("N/A", ""):
                if row["StarAllele"] == self.default:
                    self.alleles[row["StarAllele"]] = []
                continue
            self.alleles[row["StarAllele"]] = [self._site(v, rsids) for v in core.split(",")]
        self.alleles.setdefault(self.default, [])
        # Where the build's reference sequence carries a non-*1 allele (CYP2C19*38 on GRCh38, DPYD*9A on GRCh37),
        # the *1 backbone variants are shared by every other allele
        backbone = self.alleles.get(self.info["RefAllele"], []) if self.info["RefAllele"] != self.default else []
        if backbone:
            for name, sites in self.alleles.items():
                if name not in (self.default, self.info["RefAllele"]):
                    self.alleles[name] = backbone + [s for s in sites if s.key not in {b.key for b in backbone}]
        self.sites = {s.key: s for sites in self.alleles.values() for s in sites}
        self.diplotypes = {r["Diplotype"]: r["Phenotype"] for r in pack.rows("diplotype-table.csv")
                           if r["Gene"] == gene}
        self.equations = [(r["Phenotype"], r["Equation"]) for r in pack.rows("equation-table.csv")
                          if r["Gene"] == gene]

    @staticmethod
    def _site(text: str, rsids: dict) -> Site:
        chrom, pos, ref, alt = text.split("-")
        return Site(text, chrom, int(pos), ref, alt, rsids.get(text, ""))

    def phenotype(self, a: str, b: str) -> tuple[str, float | None]:
        if self.method == "Score":
            if a not in self.score or b not in self.score:
                return "Indeterminate", None
            total = self.score[a] + self.score[b]
            for phenotype, equation in self.equations:
                if _equation_holds(equation, total):
                    return phenotype, total
            return "Indeterminate", total
        if self.method == "Diplotype":
            return self.diplotypes.get(f"{a}/{b}") or self.diplotypes.get(f"{b}/{a}") or "Indeterminate", None
        return "", None


def _equation_holds(equation: str, score: float) -> bool:
    text = equation.replace("score", repr(score))
    if not re.fullmatch(r"[0-9.\s<=>=]+", text):
        return False
    parts = re.split(r"\s*(<=|<|==|>=|>)\s*", text.strip())
    ops = {"<=": float.__le__, "<": float.__lt__, "==": float.__eq__, ">=": float.__ge__, ">": float.__gt__}
    values = [float(p) for p in parts[::2]]
    return all(ops[op](values[i], values[i + 1]) for i, op in enumerate(parts[1::2]))


def call_gene(gene: str, build: str, lookup, pack=None, table=None) -> GeneCall:
    pack = pack or pgx_pack()
    tables = GeneTables(gene, build, pack)
    dosage = {key: _site_dosage(site, lookup) for key, site in tables.sites.items()}
    untested = sorted(k for k, d in dosage.items() if d is None)
    call = GeneCall(gene, "called", n_sites=len(dosage), untested=untested)
    call.observed = [f"{k}{' (' + tables.sites[k].rsid + ')' if tables.sites[k].rsid else ''} x{d}"
                     for k, d in sorted(dosage.items()) if d]
    events = whole_gene_events(table, gene, build, pack) if table is not None else []
    deletion = WHOLE_GENE_DELETION.get(gene)
    deleted = [e for e in events if e.svtype == "DEL"] if deletion else []
    call.structural = [f"{name} ({function}; {NOT_TESTED_SV})" for name, function in structural_alleles(gene, pack)
                       if not (deleted and name == deletion)]
    if deleted:
        call.structural.insert(0, f"{deletion}: {deleted[0].text()}")
    for event in events:
        if event.svtype == "DUP":
            call.note = (f"{event.text()} over {gene}: more than two copies; which allele is duplicated is not "
                         "called from a VCF")
    if deleted and deleted[0].copies == 2:
        call.diplotype, call.status = f"{deletion}/{deletion}", "called"
        call.phenotype, call.activity_score = tables.phenotype(deletion, deletion)
        return call
    if dosage and len(untested) == len(dosage):
        call.status = "not tested"
        return call
    usable = {name: sites for name, sites in tables.alleles.items()
              if all(dosage.get(s.key) is not None for s in sites)}
    call.not_assessed = sorted(set(tables.alleles) - set(usable))
    if deleted:
        usable[deletion] = []
    ranked = _rank_pairs(usable, {k: d for k, d in dosage.items() if d is not None})
    if deleted:  # one copy is the deletion: the other allele must explain every observed variant
        ranked = [item for item in ranked if deletion in item[1] and item[1] != (deletion, deletion)]
    if not ranked:
        call.status = "no match"
        return call
    ties = [pair for score, pair in ranked if score[:2] == ranked[0][0][:2] and pair != ranked[0][1]]
    a, b = ranked[0][1]
    call.diplotype = f"{a}/{b}"
    call.alternatives = [f"{x}/{y}" for x, y in ties[:5]]
    call.phenotype, call.activity_score = tables.phenotype(a, b)
    if gene == "VKORC1":
        count = sum(d or 0 for d in dosage.values())
        call.phenotype = VKORC1_SENSITIVITY.get(count, "")
    if untested:
        call.status = "partially tested"
    return call


def _rank_pairs(alleles: dict[str, list[Site]], dosage: dict[str, int]):
    """Pairs whose combined defining variants fit within the observed dosages, best first."""
    observed_total = sum(dosage.values())
    names = sorted(alleles, key=_allele_order)
    ranked = []
    for a, b in itertools.combinations_with_replacement(names, 2):
        need: dict[str, int] = {}
        for site in alleles[a] + alleles[b]:
            need[site.key] = need.get(site.key, 0) + 1
        if any(count > dosage.get(key, 0) for key, count in need.items()):
            continue
        explained = sum(need.values())
        specificity = max(len(alleles[a]), len(alleles[b]))
        ranked.append(((explained, -(observed_total - explained), specificity), (a, b)))
    ranked.sort(key=lambda item: (-item[0][0], -item[0][1], -item[0][2], _allele_order(item[1][0]),
                                  _allele_order(item[1][1])))
    return ranked


def _allele_order(name: str) -> tuple:
    match = re.match(r"\*(\d+)([A-Z]?)", name)
    return (0, int(match.group(1)), match.group(2)) if match else (1, 0, name)


def recommendations(calls: list[GeneCall], pack=None) -> list[DrugAdvice]:
    pack = pack or pgx_pack()
    phen = {c.gene: c.phenotype for c in calls if c.status in ("called", "partially tested") and c.phenotype}
    levels = {(r["Gene"], r["Drug"]): (r["CPICLevel"], r["Guideline"]) for r in pack.rows("cpic-table.csv")}
    advice = []
    for row in pack.rows("recommendation-table.csv"):
        g1, p1, g2, p2 = row["Gene1"], row["Phenotype1"], row["Gene2"], row["Phenotype2"]
        if phen.get(g1) != p1 or (g2 != "None" and phen.get(g2) != p2):
            continue
        level, url = levels.get((g1, row["Drug"]), ("", ""))
        genes = g1 if g2 == "None" else f"{g1} + {g2}"
        phenos = p1 if g2 == "None" else f"{p1}; {p2}"
        advice.append(DrugAdvice(row["Drug"], genes, phenos, row["Recommendation"], level, url))
    tested = {c.gene for c in calls if c.status in ("called", "partially tested")}
    if tested & {"CYP2C9", "VKORC1"}:
        level, url = levels.get(("VKORC1", "warfarin"), ("A", ""))
        genes = " + ".join(sorted(tested & {"CYP2C9", "VKORC1", "CYP4F2"}))
        phenos = "; ".join(f"{g}: {phen.get(g, '')}" for g in sorted(tested & {"CYP2C9", "VKORC1"}))
        advice.append(DrugAdvice("warfarin", genes, phenos, WARFARIN_TEXT, level, url))
    return advice


NOT_TESTED_BUILD = "not tested: genome build unknown"


def call_pgx(variants, build: str | None = None, genes=CALLED_GENES) -> PgxResult:
    """Star alleles, phenotypes and CPIC recommendations for the shown sample of a ``VariantSet``, on the
    genome build the file was found to use (positions are never assumed to be GRCh38)."""
    pack = pgx_pack()
    how = "chosen by the user" if build else variants.header.get("assembly_how", "")
    build = build or variants.header.get("assembly") or UNKNOWN
    if build not in ("GRCh37", "GRCh38"):
        calls = [GeneCall(gene, NOT_TESTED_BUILD, structural=[f"{name} ({function}; {NOT_TESTED_SV})" for
                                                             name, function in structural_alleles(gene, pack)])
                 for gene in genes]
        return PgxResult(UNKNOWN, calls, [], pack.label, how)
    positions = {int(site.split("-")[1]) for row in pack.rows("allele-table.csv")
                 for site in row[f"{build}Core"].split(",") if site not in ("N/A", "")}
    table = variants.table
    lookup = genotype_lookup(table[table["pos"].isin(positions)])
    structural = structural_records(table)
    calls = [call_gene(gene, build, lookup, pack, structural) for gene in genes]
    return PgxResult(build, calls, recommendations(calls, pack), pack.label, how)
