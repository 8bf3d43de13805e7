"""``medstation pacs echo|find|get|move|send|nodes``: PACS query/retrieve and send without the window.

A command talks to a configured node (``--node NAME``, see ``medstation pacs nodes``) or to one given on the
command line (``--host``, ``--port``, ``--aet`` and optionally ``--calling-aet``, ``--dicomweb``).
"""
from __future__ import annotations

import argparse
import sys

LEVEL_COLUMNS = {
    "patient": ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "NumberOfPatientRelatedStudies"),
    "study": ("PatientID", "PatientName", "StudyDate", "ModalitiesInStudy", "AccessionNumber", "StudyDescription",
              "NumberOfStudyRelatedInstances", "StudyInstanceUID"),
    "series": ("PatientID", "StudyDate", "Modality", "SeriesNumber", "SeriesDescription",
               "NumberOfSeriesRelatedInstances", "StudyInstanceUID", "SeriesInstanceUID"),
}


def _node_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("PACS node (a configured one, or given here)")
    g.add_argument("--node", "-n", help="name of a node configured in PACS Nodes / `medstation pacs nodes`")
    g.add_argument("--host")
    g.add_argument("--port", type=int, default=104)
    g.add_argument("--aet", help="the called AE title of the PACS")
    g.add_argument("--calling-aet", help="MedStation's AE title (default: the configured one, MEDSTATION)")
    g.add_argument("--dicomweb", help="DICOMweb base URL, e.g. http://pacs:8042/dicom-web")
    g.add_argument("--tls", action="store_true", help="DIMSE over TLS")
    g.add_argument("--tls-ca", default="")
    g.add_argument("--tls-cert", default="")
    g.add_argument("--tls-key", default="")
    g.add_argument("--timeout", type=float, default=30.0, help="seconds (connect, association, each response)")


def _local_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--local-aet", help="AE title of MedStation's Storage SCP (default: configured)")
    p.add_argument("--local-bind", help="address the Storage SCP listens on (default 127.0.0.1)")
    p.add_argument("--local-port", type=int, help="port the Storage SCP listens on (default 11113)")


def _target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--study", help="Study Instance UID")
    p.add_argument("--series", help="Series Instance UID (needs --study)")
    p.add_argument("--patient-id", help="retrieve everything of this patient (when no --study is given)")
    p.add_argument("--no-import", action="store_true", help="store the files without importing them")
    p.add_argument("--json", action="store_true")


def register(sub: argparse._SubParsersAction) -> None:
    pacs = sub.add_parser("pacs", help="query, retrieve from and send to a PACS (DIMSE or DICOMweb)")
    actions = pacs.add_subparsers(dest="pacs_command", metavar="ACTION", required=True)

    echo = actions.add_parser("echo", help="verify a node: C-ECHO (and a QIDO-RS request for DICOMweb)")
    _node_args(echo)
    echo.set_defaults(func=_echo)

    find = actions.add_parser("find", help="C-FIND (or QIDO-RS with --web) and print the matches with UIDs")
    _node_args(find)
    find.add_argument("--level", choices=("patient", "study", "series"), default="study")
    find.add_argument("--patient-name", default="", help="wildcards * and ? allowed")
    find.add_argument("--patient-id", default="")
    find.add_argument("--date-from", default="", help="study date, YYYY-MM-DD")
    find.add_argument("--date-to", default="")
    find.add_argument("--modality", default="")
    find.add_argument("--accession", default="")
    find.add_argument("--study", default="", help="Study Instance UID")
    find.add_argument("--series", default="", help="Series Instance UID")
    find.add_argument("--limit", type=int)
    find.add_argument("--web", action="store_true", help="use QIDO-RS even when the node has DIMSE")
    find.add_argument("--json", action="store_true")
    find.set_defaults(func=_find)

    get = actions.add_parser("get", help="C-GET a patient, study or series (WADO-RS with --web)")
    _node_args(get)
    _target_args(get)
    get.add_argument("--web", action="store_true", help="retrieve with WADO-RS")
    get.set_defaults(func=_retrieve, method="get")

    move = actions.add_parser("move", help="C-MOVE to MedStation's Storage SCP, run while the transfer lasts")
    _node_args(move)
    _target_args(move)
    _local_args(move)
    move.set_defaults(func=_retrieve, method="move", web=False)

    send = actions.add_parser("send", help="C-STORE files or folders (STOW-RS with --web); status per instance")
    _node_args(send)
    send.add_argument("paths", nargs="+", help="DICOM files or folders (series, Secondary Capture, SR results)")
    send.add_argument("--web", action="store_true", help="send with STOW-RS")
    send.add_argument("--json", action="store_true")
    send.set_defaults(func=_send)

    nodes = actions.add_parser("nodes", help="list, add or remove configured PACS nodes")
    nodes_sub = nodes.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    listing = nodes_sub.add_parser("list", help="configured nodes and MedStation's own AE")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_nodes_list)
    add = nodes_sub.add_parser("add", help="add or replace a node")
    add.add_argument("name")
    _node_args(add)
    add.set_defaults(func=_nodes_add)
    remove = nodes_sub.add_parser("remove", help="forget a node")
    remove.add_argument("name")
    remove.set_defaults(func=_nodes_remove)
    local = nodes_sub.add_parser("local", help="set MedStation's AE title and Storage SCP address (C-MOVE)")
    _local_args(local)
    local.set_defaults(func=_nodes_local)


def resolve_node(args: argparse.Namespace):
    """The configured node named by --node, or one built from --host/--port/--aet/--dicomweb."""
    from medstation.core.errors import MedStationError
    from medstation.core.pacs import nodes
    from medstation.core.settings import Settings

    settings = Settings()
    local = nodes.load_local(settings)
    if args.node:
        node = nodes.find_node(settings, args.node)
    elif args.host or args.dicomweb:
        node = nodes.PacsNode("command line", args.aet or "", args.host or "", args.port, args.calling_aet or "",
                              tls=args.tls, tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key,
                              dicomweb_url=args.dicomweb or "", timeout=args.timeout)
    else:
        raise MedStationError("name a node with --node, or give --host, --port and --aet (or --dicomweb)")
    if args.node and args.calling_aet:
        from dataclasses import replace

        node = replace(node, calling_ae=args.calling_aet)
    return node.validated(), local


def _context(label: str):
    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext

    return JobContext(on_progress=PrintProgress(label))


def _echo(args: argparse.Namespace) -> int:
    from medstation.services import pacs

    node, local = resolve_node(args)
    for line in pacs.verify(node, local):
        print(line)
    return 0


def _find(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.services import pacs
    from medstation.core.pacs.query import Query

    node, local = resolve_node(args)
    query = Query(args.level, args.patient_name, args.patient_id, args.date_from, args.date_to, args.modality,
                  args.accession, study_uid=args.study, series_uid=args.series)
    matches = pacs.search(node, local, query, _context("find"), web=args.web, limit=args.limit)
    if args.json:
        print_json([m.values for m in matches])
        return 0
    columns = LEVEL_COLUMNS[args.level]
    rows = [[m.get(c) for c in columns] for m in matches]
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)))
    print(f"{len(matches)} {args.level} match(es) on {node.label()}", file=sys.stderr)
    return 0


def _target(args: argparse.Namespace):
    from medstation.core.errors import MedStationError
    from medstation.core.pacs.query import Match

    if args.series and not args.study:
        raise MedStationError("--series needs --study (the Study Instance UID it belongs to)")
    if args.series:
        return Match("series", {"StudyInstanceUID": args.study, "SeriesInstanceUID": args.series})
    if args.study:
        return Match("study", {"StudyInstanceUID": args.study})
    if args.patient_id:
        return Match("patient", {"PatientID": args.patient_id})
    raise MedStationError("say what to retrieve: --study UID [--series UID] or --patient-id ID")


def _retrieve(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from medstation.commands._util import print_json
    from medstation.services import pacs

    node, local = resolve_node(args)
    if args.method == "move":
        local = replace(local, ae_title=args.local_aet or local.ae_title, bind=args.local_bind or local.bind,
                        port=args.local_port or local.port)
    method = "wado" if getattr(args, "web", False) else args.method
    report = pacs.retrieve(node, local, _target(args), method, _context(method.upper()),
                              import_=not args.no_import)
    if args.json:
        print_json({**report.to_dict(), "imported": getattr(report.imported, "summary", lambda: None)()})
        return 0
    print(report.summary())
    for folder in report.folders:
        print(f"  {folder}")
    for problem in report.problems:
        print(f"  warning: {problem}")
    if report.imported is not None:
        print(f"import: {report.imported.summary()}")
    return 0


def _send(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.services import pacs

    node, local = resolve_node(args)
    report = pacs.send(node, local, args.paths, _context("send"), web=args.web)
    if args.json:
        print_json(report.to_dict())
    else:
        for r in report.results:
            print(f"{'OK    ' if r.ok else 'FAILED'}  {r.path}  {r.sop_uid or '-'}  {r.status}")
        print(report.summary())
    return 0 if report.failed == 0 and not report.error else 1


def _nodes_list(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.core.pacs import nodes
    from medstation.core.settings import Settings

    settings = Settings()
    configured, local = nodes.load_nodes(settings), nodes.load_local(settings)
    if args.json:
        from dataclasses import asdict

        print_json({"local": asdict(local), "nodes": [n.to_dict() for n in configured]})
        return 0
    print(f"MedStation: AE {local.ae_title}, Storage SCP for C-MOVE on {local.bind}:{local.port}")
    for node in configured:
        extras = [x for x in ("TLS" if node.tls else "", node.dicomweb_url) if x]
        print(f"{node.name}: {node.label()}" + (f"  [{', '.join(extras)}]" if extras else ""))
    if not configured:
        print("no PACS nodes configured (medstation pacs nodes add NAME --host H --port P --aet AET)")
    return 0


def _nodes_add(args: argparse.Namespace) -> int:
    from medstation.core.pacs import nodes
    from medstation.core.settings import Settings

    settings = Settings()
    node = nodes.PacsNode(args.name, args.aet or "", args.host or "", args.port, args.calling_aet or "",
                          tls=args.tls, tls_ca=args.tls_ca, tls_cert=args.tls_cert, tls_key=args.tls_key,
                          dicomweb_url=args.dicomweb or "", timeout=args.timeout).validated()
    others = [n for n in nodes.load_nodes(settings) if n.name != node.name]
    nodes.save_nodes(settings, [*others, node])
    print(f"saved {node.label()}")
    return 0


def _nodes_remove(args: argparse.Namespace) -> int:
    from medstation.core.pacs import nodes
    from medstation.core.settings import Settings

    settings = Settings()
    node = nodes.find_node(settings, args.name)
    nodes.save_nodes(settings, [n for n in nodes.load_nodes(settings) if n.name != node.name])
    print(f"removed {node.name}")
    return 0


def _nodes_local(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from medstation.core.pacs import nodes
    from medstation.core.settings import Settings

    settings = Settings()
    local = nodes.load_local(settings)
    local = replace(local, ae_title=args.local_aet or local.ae_title, bind=args.local_bind or local.bind,
                    port=args.local_port or local.port).validated()
    nodes.save_local(settings, local)
    print(f"MedStation: AE {local.ae_title}, Storage SCP for C-MOVE on {local.bind}:{local.port}")
    return 0
