"""``medstation infer PATH --model NAME [--explain gradcam|gradcampp] [--device ...] --out DIR``.

Scores every slice of each series found under PATH, explains the highest-scoring slices, and writes
``predictions.json`` plus one heat-map overlay PNG per explained slice (and, with ``--dicom``, a Secondary Capture
and a Comprehensive SR per explained slice). Every inference is recorded in the audit log.
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
    infer.set_defaults(func=_infer)


def _infer(args: argparse.Namespace) -> int:
    from pathlib import Path

    from medstation.commands._util import PrintProgress, print_json
    from medstation.core.errors import MedStationError
    from medstation.core.jobs import JobContext
    from medstation.core.settings import Settings
    from medstation.inference import matching
    from medstation.services import imaging, models

    model = models.load(args.model, args.device or Settings().get("device", "auto"))
    dev = model.device
    volumes = imaging.open_files(args.path, JobContext(PrintProgress("reading")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {"model": {**model.identity(), "task": model.bundle.task, "labels": model.labels},
              "notice": imaging.notice(model), "device": dev.label(), "series": []}
    ran = 0
    for number, volume in enumerate(volumes, start=1):
        fit = matching.match(model.bundle, volume)
        entry = {"series_uid": volume.series_uid, "modality": volume.modality, "shape": list(volume.shape),
                 "match": {"confidence": fit.confidence, "reason": fit.reason}}
        report["series"].append(entry)
        if fit.confidence <= 0:
            continue
        ran += 1
        run = _run_segmentation if model.kind == "segmentation" else _run_series
        entry.update(run(args, model, volume, out / f"series{number:02d}"))
    (out / "predictions.json").write_text(__import__("json").dumps(report, indent=2))
    print_json(report) if not ran else _print_summary(report, out)
    if not ran:
        raise MedStationError(f"model {model.name} fits none of the {len(volumes)} series read "
                              f"({volumes[0].modality or 'unknown modality'}, ...)",
                              kept=f"{out / 'predictions.json'} lists why each was skipped")
    return 0


def _run_series(args, model, volume, folder) -> dict:
    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.core.imaging import overlay
    from medstation.services import imaging

    result = imaging.score_series(model, volume, JobContext(PrintProgress("inference")), args.batch_size)
    entry = {"threshold": result.threshold, "positive_label": result.positive_label,
             "slices": [s.as_dict() for s in result.scores], "flagged": [s.index for s in result.flagged()],
             "explanations": []}
    if args.explain == "none":
        return entry
    folder.mkdir(parents=True, exist_ok=True)
    center, width = overlay.default_window(volume)
    for score in result.top(args.top):
        why = imaging.explain_slice(model, volume, score.index, args.explain)
        rgb = overlay.blend(volume.pixels[score.index], why.heatmap, center, width)
        png = folder / f"slice{score.index + 1:04d}_{args.explain}.png"
        overlay.save_png(rgb, png)
        item = {**why.summary(), "png": str(png)}
        if args.dicom:
            files = imaging.export_result(volume, why, rgb, folder)
            item.update(secondary_capture=str(files.secondary_capture), structured_report=str(files.structured_report))
        entry["explanations"].append(item)
    return entry


def _run_segmentation(args, model, volume, folder) -> dict:
    from medstation.commands._util import PrintProgress
    from medstation.core.jobs import JobContext
    from medstation.inference import seg_files
    from medstation.services import segmentation

    seg = segmentation.segment(model, volume, JobContext(PrintProgress("segmentation")))
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"segmentation": {"labels": [s.as_dict() for s in seg.stats(volume)], "notes": seg.notes,
                              "nifti": str(seg_files.write_nifti(seg, volume, folder / "labels.nii.gz"))},
             "overlays": seg_files.write_overlays(seg, volume, folder)}
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
            labels = "; ".join(f"{s['name']} {s['volume_ml']:.1f} mL" for s in entry["segmentation"]["labels"])
            print(f"  {entry['series_uid']} ({entry['modality']}, {entry['shape'][0]} slices): {labels}")
            print(f"    label map -> {entry['segmentation']['nifti']}")
            continue
        if "slices" not in entry:
            print(f"  skipped {entry['series_uid']}: {entry['match']['reason']}")
            continue
        flagged = entry["flagged"]
        print(f"  {entry['series_uid']} ({entry['modality']}, {entry['shape'][0]} slices): "
              f"{len(flagged)} slice(s) >= {entry['threshold']} for '{entry['positive_label']}'")
        for why in entry["explanations"]:
            print(f"    slice {why['index'] + 1}: {why['label']} p={why['probability']:.3f} "
                  f"{why['method']} on {why['target_layer']} -> {why['png']}")
    print(f"wrote {out / 'predictions.json'}")
