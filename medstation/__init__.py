"""MedStation: an explainable clinical workstation (imaging, notes, genomics, resources)."""

__version__ = "0.1.0"
APP_NAME = "MedStation"
