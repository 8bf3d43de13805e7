"""Fixtures the pane tests share with the headless tests of their area (real sample files)."""
from tests.genomics.conftest import kg_vcf, lancet_slice, lancet_vcf  # noqa: F401 - fixtures, used by name
