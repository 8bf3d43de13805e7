"""PACS connectivity: configured nodes, DIMSE (pynetdicom) and DICOMweb query, retrieve and send. No Qt.

``medstation.services.pacs`` is the entry point the GUI and the CLI use; ``nodes`` holds the configuration;
``dimse``, ``send`` and ``dicomweb`` speak the protocols; ``storage`` writes arriving instances atomically under the
data folder.
"""
