"""Genomics for MedStation: VCF loading, annotation, pharmacogenomics, ACMG evidence, runs of homozygosity, reports.

No Qt here; heavy libraries (cyvcf2, hmmlearn, reportlab) are imported inside the functions that use them.
"""
