"""``medstation infer PATH --model NAME [--explain gradcam|gradcampp] [--device ...] --out DIR``.

Scores every slice of each series found under PATH, explains the highest-scoring slices, and writes
``predictions.json`` plus one heat-map overlay PNG per explained slice (and, with ``--dicom``, a Secondary Capture
and a Comprehensive SR per explained slice). Every inference is recorded in the audit log.

Each series is first checked against the model's intended use (``medstation.inference.intended_use``); a series
outside it is not scored unless ``--outside-intended-use`` is given, and then every output says so. Series are
read one at a time, the next on a background thread while this one is checked and scored (a model with several
input channels reads all first, to match them); a series that cannot be read is listed with its reason and the
others go on.
"""
from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    infer = sub.add_parser("infer", help="run a model on DICOM series; write predictions JSON and heat-map PNGs")
    infer.add_argument("path", nargs="+", help="DICOM files or folders")
    infer.add_argument("--model", required=True, help="model bundle name (see `medstation models list`)")
    infer.add_argument("--explain", choices=("gradcam", "gradcampp", "none"), default="gradcam",
                       help="heat-map method for the explained slices (default gradcam)")
    infer.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
    infer.add_argument("--out", required=True, help="folder for predictions.json and overlays")
    infer.add_argument("--top", type=int, default=3, help="explain this many highest-scoring slices (default 3)")
    infer.add_argument("--dicom", action="store_true", help="also write DICOM SC + SR for each explained slice "
                       "(a DICOM SEG for a segmentation model)")
    infer.add_argument("--fractional", action="store_true", help="segmentation: write probabilities as a "
                       "FRACTIONAL SEG (with --dicom)")
    infer.add_argument("--batch-size", type=int, default=None)
    infer.add_argument("--backend", choices=("local", "remote"), default=None,
                       help="run the model here or on an inference server (default: the setting, local)")
    infer.add_argument("--server", default=None, help="inference server URL for --backend remote, e.g. "
                       "grpcs://ct-ai.hospital:8001 (default: the setting)")
    infer.add_argument("--channel", action="append", default=[], metavar="LABEL=PATH_OR_SERIES",
                       help="a segmentation model with several input channels (see `medstation models list`): the "
                            "series for channel LABEL, a file or folder, or the UID or description of a series read "
                            "from PATH; repeat for each channel (the first channel's series is the reference grid)")
    infer.add_argument("--outside-intended-use", action="store_true",
                       help="score series outside the model's intended use too; every output is marked as such")
    infer.set_defaults(func=_infer)


def _infer(args: argparse.Namespace) -> int:
    from contextlib import closing, nullcontext
    from pathlib import Path

    from medstation.commands._util import PrintProgress, print_json
    from medstation.core.errors import MedStationError
    from medstation.core.jobs import JobContext
    from medstation.services import imaging

    model = imaging.open_model(args.model, backend=args.backend, server=args.server, device=args.device)
    labels = _channel_labels(args, model)
    progress = JobContext(PrintProgress("reading"))
    channels = None
    if labels:  # the series are matched to the model's channels, so all are read first
        channels = _channel_series(args, model, labels, imaging.open_files(args.path, progress))
        first = channels[labels[0]]
        series_read = nullcontext([imaging.OpenedSeries(first.series_uid, [first])])  # one run, on its grid
    else:  # the next series loads on a background thread while this one is checked and scored
        series_read = closing(imaging.stream_files(args.path, progress))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"model": {**model.identity(), "task": model.bundle.task, "labels": model.labels},
              "notice": imaging.notice(model), "device": model.device.label(), "series": []}
    ran, refused, failed, number, first_modality = 0, [], [], 0, None
    with series_read as opened:
        for series in opened:
            if series.error:
                report["series"].append({"series_uid": series.series_uid, "failed": series.error})
                failed.append(series.error)
                continue
            for volume in series.volumes:
                number += 1
                first_modality = volume.modality if first_modality is None else first_modality
                ran += _infer_volume(args, model, volume, number, out, report, refused, channels)
    (out / "predictions.json").write_text(__import__("json").dumps(report, indent=2))
    print_json(report) if not ran else _print_summary(report, out)
    if not ran and not number and failed:
        raise MedStationError(failed[0].rstrip(".") + (f" (and {len(failed) - 1} more series)" if len(failed) > 1
                                                       else ""), kept=f"no series could be read; "
                                                                      f"{out / 'predictions.json'} lists each")
    if not ran and refused:
        raise MedStationError(f"{refused[0]}" + (f" (and {len(refused) - 1} more series)" if len(refused) > 1 else ""),
                              kept=("nothing was segmented; --outside-intended-use segments it" if model.kind ==
                                    "segmentation" else "no score was computed; --outside-intended-use scores it")
                              + f" anyway, marked as outside intended use; {out / 'predictions.json'} lists every "
                                "check")
    if not ran:
        raise MedStationError(f"model {model.name} fits none of the {number} series read "
                              f"({first_modality or 'unknown modality'}, ...)",
                              kept=f"{out / 'predictions.json'} lists why each was skipped")
    return 0


def _infer_volume(args, model, volume, number: int, out, report: dict, refused: list, channels=None) -> int:
    """Check one volume against the model's intended use and score it (1) or record why not (0)."""
    from medstation.inference import matching

    fit = matching.match(model.bundle, volume)
    entry = {"series_uid": volume.series_uid, "modality": volume.modality, "shape": list(volume.shape),
             "match": fit.to_dict()}
    report["series"].append(entry)
    if fit.confidence <= 0:
        return 0
    outside = "" if fit.within_use else fit.use.refusal()
    if outside and not args.outside_intended_use:
        entry["skipped"] = f"{outside}; not scored (--outside-intended-use scores it, marked as such)"
        refused.append(outside)
        return 0
    if outside:
        entry["outside_intended_use"] = outside
    folder = out / f"series{number:02d}"
    if model.kind == "segmentation":
        entry.update(_run_segmentation(args, model, volume, folder, outside, channels))
    else:
        entry.update(_run_series(args, model, volume, folder, outside))
    return 1


def _run_series(args, model, volume, folder, outside: str = "") -> dict:
    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.services import imaging

    return imaging.analyse_series(model, volume, folder, args.explain, args.top, args.dicom,
                                  JobContext(PrintProgress("inference")), args.batch_size, outside_use=outside)


def _channel_labels(args, model) -> list[str]:
    """The input channels of a segmentation model that takes several (none for other models); ``--channel`` for a
    model with one input is an error."""
    from medstation.core.errors import MedStationError

    labels = model.bundle.channels if model.kind == "segmentation" and getattr(model, "built", None) is not None else []
    if not labels and args.channel:
        raise MedStationError(f"model {model.name} takes one series; --channel is for segmentation models with "
                              "several input channels", kept="nothing was run")
    return list(labels)


def _channel_series(args, model, labels: list[str], volumes) -> dict:
    """``--channel LABEL=PATH_OR_SERIES`` as {channel label: series}."""
    from medstation.core.errors import MedStationError
    from medstation.inference import seg_channels

    given = {}
    for item in args.channel:
        label, sep, where = item.partition("=")
        if not sep or not label.strip() or not where.strip():
            raise MedStationError(f"--channel {item!r} is not LABEL=PATH_OR_SERIES", kept="nothing was run")
        given[label.strip()] = where.strip()
    try:
        seg_channels.check_labels(model.name, labels, given)
    except MedStationError as exc:
        raise MedStationError(exc.message, kept="give --channel LABEL=PATH_OR_SERIES for each of them") from None
    return {label: _one_series(label, where, volumes) for label, where in given.items()}


def _one_series(label: str, where: str, volumes):
    from pathlib import Path

    from medstation.core.errors import MedStationError
    from medstation.services import imaging

    if Path(where).exists():
        found = imaging.open_files([where])
        if len(found) != 1:
            raise MedStationError(f"--channel {label}={where} holds {len(found)} series; give the folder or files "
                                  "of one series, or its series UID", kept="nothing was run")
        return found[0]
    hits = [v for v in volumes if where in (v.series_uid, v.description)] or \
        [v for v in volumes if where.casefold() == (v.description or "").casefold()]
    if len(hits) != 1:
        known = "; ".join(f"{v.series_uid} ({v.description or 'no description'})" for v in volumes)
        raise MedStationError(f"--channel {label}={where} is no file or folder and names "
                              f"{'no' if not hits else len(hits)} of the series read ({known})",
                              kept="nothing was run")
    return hits[0]


def _run_segmentation(args, model, volume, folder, outside: str = "", channels=None) -> dict:
    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.inference import seg_files
    from medstation.services import segmentation

    seg = segmentation.segment(model, volume, JobContext(PrintProgress("segmentation")), channels, outside)
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"segmentation": {"labels": [s.as_dict() for s in seg.stats(volume)], "notes": seg.notes,
                              "nifti": str(seg_files.write_nifti(seg, volume, folder / "labels.nii.gz"))},
             "overlays": seg_files.write_overlays(seg, volume, folder)}
    if seg.inputs:
        entry["segmentation"]["channels"] = {label: {"series_uid": v.series_uid, "description": v.description}
                                             for label, v in seg.inputs.items()}
    if outside:
        entry["segmentation"]["outside_intended_use"] = outside
    if args.dicom:
        entry["segmentation"]["dicom_seg"] = str(segmentation.export_seg(seg, volume, folder, args.fractional))
    return entry


def _print_summary(report: dict, out) -> None:
    model = report["model"]
    print(f"{model['model']} {model['version']} on {report['device']} (sha256 {model['sha256'][:12]}...)")
    if report["notice"]:
        print(report["notice"])
    for entry in report["series"]:
        if "segmentation" in entry:
            if entry.get("outside_intended_use"):
                print(f"  OUTSIDE INTENDED USE (run by explicit override): {entry['outside_intended_use']}")
            labels = "; ".join(f"{s['name']} {s['volume_ml']:.1f} mL" for s in entry["segmentation"]["labels"])
            print(f"  {entry['series_uid']} ({entry['modality']}, {entry['shape'][0]} slices): {labels}")
            print(f"    label map -> {entry['segmentation']['nifti']}")
            continue
        if "failed" in entry:
            print(f"  failed {entry['series_uid']}: {entry['failed']}")
            continue
        if "slices" not in entry:
            print(f"  skipped {entry['series_uid']}: {entry.get('skipped') or entry['match']['reason']}")
            continue
        if entry.get("outside_intended_use"):
            print(f"  OUTSIDE INTENDED USE (run by explicit override): {entry['outside_intended_use']}")
        flagged = entry["flagged"]
        print(f"  {entry['series_uid']} ({entry['modality']}, {entry['shape'][0]} slices): "
              f"{len(flagged)} slice(s) >= {entry['threshold']} for '{entry['positive_label']}'")
        for why in entry["explanations"]:
            print(f"    slice {why['index'] + 1}: {why['label']} p={why['probability']:.3f} "
                  f"{why['method']} on {why['target_layer']} -> {why['png']}")
    print(f"wrote {out / 'predictions.json'}")
