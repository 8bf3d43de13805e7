"""Allele frequencies a cohort VCF already carries (INFO/AF, AC/AN, per-population AFs such as EUR_AF).

Such a frequency is population evidence (ACMG BA1/BS1/PM2, the Pop. AF column and filter) only when it rests on
many alleles - ``AN`` of at least 2,000 - or when the header names a population resource (1000 Genomes, gnomAD,
...), and only when the file has no gnomAD-style field of its own. A small cohort's or a single caller's AF is
shown as "cohort AF" and never used as population evidence.
"""
from __future__ import annotations

import re

import numpy as np

MIN_POPULATION_AN = 2000
POPULATION_AF = re.compile(r"^(?:[A-Z]{2,4})_AF$")
RESOURCES = re.compile(r"1000 ?Genomes|\b1000G\b|\b1KG\b|gnomAD|\bExAC\b|\bGoNL\b|Genome of the Netherlands|TOPMed|"
                       r"UK ?Biobank|\bESP6500\b|HapMap", re.IGNORECASE)
_DEFINITIONS = ("##INFO=", "##FORMAT=", "##FILTER=", "##contig=", "##ALT=", "##fileformat=", "##reference=")


def frequency_keys(descriptions: dict[str, str]) -> dict:
    """Which frequency fields the header declares: AF, AC, AN and per-population AFs."""
    return {"af": "AF" in descriptions, "ac": "AC" in descriptions, "an": "AN" in descriptions,
            "populations": sorted(k for k in descriptions if POPULATION_AF.match(k))}


def named_resource(raw_header: str) -> str:
    """A population resource the header's own description lines name ('' when none): field definitions and the
    reference line do not count, since a link to a reference genome says nothing about where the AF came from."""
    for line in raw_header.splitlines():
        if line.startswith("##") and not line.startswith(_DEFINITIONS):
            match = RESOURCES.search(line)
            if match:
                return match.group(0)
    return ""


def _first_number(arr):
    from medstation.core.genomics.columns import _fields, to_numbers

    return to_numbers(_fields(arr, ",", 1)[0])


def frequency_columns(info, reader) -> dict[str, np.ndarray]:
    """``cohort_af`` (INFO/AF, or AC/AN), ``cohort_popmax`` (the highest of AF and the per-population AFs) and
    ``cohort_an`` for every record of a text VCF (NaN where absent)."""
    from medstation.core.genomics.columns import info_values, to_numbers

    keys = reader.frequency
    n = len(info)
    af = _first_number(info_values(info, "AF")) if keys["af"] else np.full(n, np.nan)
    an = to_numbers(info_values(info, "AN")) if keys["an"] else np.full(n, np.nan)
    if keys["ac"] and keys["an"]:
        ac = _first_number(info_values(info, "AC"))
        with np.errstate(invalid="ignore", divide="ignore"):
            af = np.where(np.isnan(af) & (an > 0), ac / an, af)
    pops = [_first_number(info_values(info, k)) for k in keys["populations"]]
    popmax = np.fmax.reduce([af] + pops) if pops else af.copy()
    return {"cohort_af": af, "cohort_popmax": popmax, "cohort_an": an}


def record_frequencies(info, keys: dict) -> tuple[float, float, float]:
    """The same three values for one cyvcf2 record (BCF path)."""
    def first(key):
        value = info.get(key)
        if isinstance(value, (tuple, list)):
            value = value[0] if value else None
        try:
            return float(value) if value is not None else np.nan
        except (TypeError, ValueError):
            return np.nan

    af = first("AF") if keys["af"] else np.nan
    an = first("AN") if keys["an"] else np.nan
    if np.isnan(af) and keys["ac"] and an > 0:
        af = first("AC") / an
    values = [af] + [first(k) for k in keys["populations"]]
    known = [v for v in values if not np.isnan(v)]
    return af, (max(known) if known else np.nan), an


def apply_population(table, header: dict) -> str:
    """Use the cohort's own frequency as the population AF when it qualifies; return the label shown with it.

    Sets ``table.attrs['population_field']`` (the label) and ``table.attrs['af_kind']`` ('population' or
    'cohort' or ''), and fills ``gnomad_af`` from the cohort values only when the file has no population field.
    """
    has_pop_field = bool(table.attrs.get("population_field"))
    cohort = table["cohort_af"].to_numpy(dtype=float)
    if has_pop_field:
        table.attrs["af_kind"] = "population"
        return table.attrs["population_field"]
    if np.isnan(cohort).all():
        table.attrs["af_kind"] = ""
        return ""
    an = table["cohort_an"].to_numpy(dtype=float)
    median_an = float(np.nanmedian(an)) if (~np.isnan(an)).any() else float("nan")
    resource = header.get("population_resource", "")
    pops = header.get("population_af_fields", [])
    if resource or (median_an >= MIN_POPULATION_AN):
        basis = f"header names {resource}" if resource else f"AN {median_an:.0f} alleles"
        fields = "INFO/AF" + (" and " + ", ".join(pops) + " (highest used)" if pops else "")
        label = f"{fields} of this cohort file ({basis})"
        table["gnomad_af"] = table["cohort_popmax"].to_numpy(dtype=float)
        table.attrs["population_field"] = label
        table.attrs["af_kind"] = "population"
        return label
    size = f"AN {median_an:.0f}" if not np.isnan(median_an) else "no AN"
    table.attrs["af_kind"] = "cohort"
    table.attrs["cohort_note"] = (f"cohort AF only ({size}, below {MIN_POPULATION_AN} alleles and no population "
                                  "resource named): shown, not used as population evidence")
    return ""
