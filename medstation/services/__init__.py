"""The services layer: one headless module per area, the only entry point the CLI and the GUI call for that
area's work (open or import, analyse, explain, export, send) and the only writer of audit entries.

    file / PACS / user action -> services.<area> -> core + inference -> services.<area> -> pane or CLI printer

``imaging``, ``notes``, ``genomics``, ``resources``, ``privacy``, ``pacs`` and ``models`` share one shape: plain
functions that take paths or domain objects and a ``JobContext`` (progress, cancel), call core and inference, record
what happened in the audit log, and return plain results. Core and inference functions never write the audit log;
views report what the user looked at through the service's ``viewed`` function. No Qt here (import contracts).
"""
