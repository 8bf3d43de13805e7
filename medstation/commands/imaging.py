"""``medstation index PATH`` and ``medstation imaging {info,list,thumbnail}``: the Imaging pane's headless twin."""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    idx = sub.add_parser("index", help="index DICOM folders, DICOMDIRs, files or zip archives (headers only)")
    idx.add_argument("path", nargs="+", help="folders, DICOMDIR files, DICOM files or .zip archives")
    idx.add_argument("--json", action="store_true", help="print the import report as JSON")
    idx.set_defaults(func=_index)

    imaging = sub.add_parser("imaging", help="inspect indexed studies and load volumes")
    actions = imaging.add_subparsers(dest="imaging_command", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="load a series (by UID) or files and print shape, spacing, value range")
    info.add_argument("target", nargs="+", help="a series UID from `imaging list`, or DICOM files/folders")
    info.add_argument("--json", action="store_true")
    info.set_defaults(func=_info)
    listing = actions.add_parser("list", help="patients, studies and series in the index")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)


def _index(args: argparse.Namespace) -> int:
    from medstation.commands._util import PrintProgress, print_json
    from medstation.core.jobs import JobContext
    from medstation.services import imaging as service

    report = service.import_paths(args.path, JobContext(PrintProgress("indexing")))
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary())
        for record in report.dicomdir_records:
            print(f"DICOMDIR {record['path']}: {record['patients']} patients, {record['studies']} studies, "
                  f"{record['series']} series, {record['images']} image records")
        for path, reason in report.skipped:
            print(f"skipped {path}: {reason}")
    found_images = report.instances_added + report.duplicates > 0
    return 0 if found_images or not report.skipped else 1  # 1: nothing usable, and reasons were printed


def _volume_info(volume) -> dict:
    import numpy as np

    pixels = volume.pixels
    finite = pixels[np.isfinite(pixels)] if pixels.dtype.kind == "f" else pixels
    return {"series_uid": volume.series_uid, "description": volume.description, "modality": volume.modality,
            "shape": list(volume.shape), "spacing_mm": [round(s, 4) for s in volume.spacing],
            "origin": [round(v, 3) for v in volume.origin], "units": volume.units or "stored",
            "min": float(finite.min()) if finite.size else None, "max": float(finite.max()) if finite.size else None,
            "photometric": volume.photometric, "is_volume": volume.is_volume,
            "windows": [f"{w.name} {w.center:g}/{w.width:g}" for w in volume.windows],
            "overlay_frames": sorted(volume.overlays), "warnings": volume.warnings}


def _info(args: argparse.Namespace) -> int:
    import os

    from medstation.commands._util import PrintProgress, print_json
    from medstation.core.jobs import JobContext
    from medstation.services import imaging as service

    ctx = JobContext(PrintProgress("loading"))
    if len(args.target) == 1 and not os.path.exists(args.target[0]):
        volumes = service.open_series(args.target[0], ctx)
    else:
        volumes = service.open_files(args.target, ctx)
    infos = [_volume_info(v) for v in volumes]
    if args.json:
        print_json(infos)
        return 0
    for n, info in enumerate(infos, 1):
        unit = info["units"]
        print(f"volume {n} of {len(infos)}: {info['modality']} {info['description']!r} ({info['series_uid']})")
        print(f"  shape {'x'.join(map(str, info['shape']))}  spacing (z, y, x) {info['spacing_mm']} mm")
        print(f"  values {info['min']:g} .. {info['max']:g} {unit}  photometric {info['photometric']}")
        if info["windows"]:
            print(f"  windows: {', '.join(info['windows'])}")
        for warning in info["warnings"]:
            print(f"  note: {warning}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from medstation.commands._util import print_json
    from medstation.core.imaging import index

    tree = []
    for patient in index.list_patients():
        studies = []
        for study in index.list_studies(patient["patient_id"]):
            studies.append({**study, "series": index.list_series(study["study_uid"])})
        tree.append({**patient, "studies": studies})
    if args.json:
        print_json(tree)
        return 0
    if not tree:
        print("no studies indexed; run `medstation index PATH`")
    for patient in tree:
        print(f"{patient['name'] or '(no name)'}  ID {patient['patient_id']}  born {patient['birth_date'] or '-'}"
              f"  {patient['sex'] or ''}")
        for study in patient["studies"]:
            print(f"  {study['date'] or '--------'}  {study['modalities']:<8} {study['description']}"
                  f"  [{study['study_uid']}]")
            for s in study["series"]:
                print(f"    #{s['number'] if s['number'] is not None else '-':<4} {s['modality']:<4} "
                      f"{s['image_count']:>5} images  {s['description']}  [{s['series_uid']}]")
    return 0
