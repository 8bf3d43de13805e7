"""Is a series within a model's intended use? Checked from the header and, where headers are often empty, from the
pixels, before anything is scored.

A model declares its intended use as a plain dict (``medstation.intended_use`` in a bundle's metadata)::

    {"modality": ["CT"], "body_part": ["CHEST", "THORAX", "LUNG"], "image_type": ["ORIGINAL", "PRIMARY"],
     "orientation": "axial", "slice_thickness_mm": [0.5, 10], "pixel_spacing_mm": [0.3, 1.5],
     "patient_age_years": [18, 120], "lung_fraction_min": 0.08}

Every key is optional. A bundle that declares nothing (published MONAI bundles give only a modality and an input
shape) is checked on its modality alone, and the result says so. ``check`` works on that dict, a header dict (see
``header_of``) and the pixels, so any caller - the viewer, the CLI, a reader of other bundle formats - uses it alike.
No torch here: the viewer runs it the moment a series opens.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NOT_DECLARED = "intended use not declared: modality checked only"

# words in BodyPartExamined / descriptions -> the body region they name (words are matched whole, lower case)
_REGIONS: dict[str, tuple[str, ...]] = {
    "chest": ("chest", "thorax", "thoracic", "thx", "lung", "lungs", "pulmonary", "pulmo", "thorax_abdomen"),
    "head": ("head", "brain", "skull", "cranial", "cranium", "sinus", "sinuses", "orbit", "orbits", "iac",
             "face", "facial"),
    "neck": ("neck", "cervical", "cspine", "larynx", "thyroid"),
    "abdomen": ("abdomen", "abdominal", "abd", "liver", "pancreas", "kidney", "kidneys", "renal", "bowel",
                "stomach"),
    "pelvis": ("pelvis", "pelvic", "prostate", "bladder", "hip", "hips"),
    "spine": ("spine", "lspine", "tspine", "lumbar", "sacrum"),
    "shoulder": ("shoulder",),
    "elbow": ("elbow",),
    "wrist": ("wrist",),
    "hand": ("hand", "finger", "fingers"),
    "knee": ("knee",),
    "ankle": ("ankle",),
    "foot": ("foot", "feet", "toe", "calcaneus"),
    "leg": ("leg", "tibia", "femur", "extremity"),
    "arm": ("arm", "humerus", "forearm"),
    "breast": ("breast", "mammo"),
    "heart": ("heart", "cardiac", "coronary"),
}
_WORD_REGION = {w: region for region, words in _REGIONS.items() for w in words}
_RENDERING = ("3d", "vr", "vrt", "volume", "render", "rendering", "ssd", "mip", "minip", "surface")


@dataclass(frozen=True)
class Check:
    name: str  # modality, body part, image type, orientation, slice thickness, pixel spacing, age, lung tissue
    status: str  # passed | failed | unknown
    text: str  # what was found, in words
    phrase: str = ""  # short words for the refusal sentence ("ankle", "derived 3D rendering")


@dataclass
class UseCheck:
    model: str
    declared: bool
    checks: list[Check] = field(default_factory=list)

    @property
    def within(self) -> bool:
        return not self.failed

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == "failed"]

    def refusal(self) -> str:
        """"outside lesion_ct's intended use: ankle, derived 3D rendering" (empty when within)."""
        if self.within:
            return ""
        return f"outside {self.model}'s intended use: " + ", ".join(dict.fromkeys(c.phrase or c.text
                                                                                   for c in self.failed))

    def summary(self) -> str:
        """One line: which checks passed or failed, in words."""
        head = self.refusal() or (f"within {self.model}'s intended use" if self.declared else NOT_DECLARED)
        detail = "; ".join(f"{c.name} {c.status}: {c.text}" for c in self.checks)
        return f"{head} ({detail})" if detail else head

    def to_dict(self) -> dict[str, Any]:
        return {"within": self.within, "declared": self.declared, "summary": self.summary(),
                "refusal": self.refusal(),
                "checks": [{"name": c.name, "status": c.status, "text": c.text} for c in self.checks]}


# declared spec ---------------------------------------------------------------------------------------------------
def declared_spec(metadata: dict) -> dict[str, Any]:
    """The intended-use dict of a bundle's metadata; when the bundle declares none, ``{"declared": False}`` plus the
    modality of its input spec (MONAI's ``network_data_format``)."""
    ms = metadata.get("medstation") or {}
    spec = dict(ms.get("intended_use") or {})
    declared = bool(spec)
    if "modality" not in spec:
        inputs = (metadata.get("network_data_format") or {}).get("inputs") or {}
        modality = next(iter(inputs.values()), {}).get("modality") if inputs else None
        modality = modality or ms.get("modalities")
        if modality:
            spec["modality"] = modality
    spec["declared"] = declared
    return spec


def _as_list(value) -> list[str]:
    if value is None:
        return []
    return [str(v).upper() for v in ([value] if isinstance(value, (str, int, float)) else value)]


# header ----------------------------------------------------------------------------------------------------------
def header_of(volume) -> dict[str, Any]:
    """What the checks need from a series: its first file's header (when it was read from DICOM) and the
    geometry the loader found."""
    header: dict[str, Any] = {"modality": volume.modality or "", "units": volume.units or "",
                              "colour": bool(volume.is_color), "row_dir": volume.row_dir, "col_dir": volume.col_dir,
                              "pixel_spacing": (volume.spacing[1], volume.spacing[2]), "orientation_known": False,
                              "descriptions": [volume.description] if volume.description else []}
    ds = _first_header(volume)
    if ds is None:
        return header
    header["body_part"] = str(ds.get("BodyPartExamined", "") or "").strip()
    header["image_type"] = [str(v).strip().upper() for v in (ds.get("ImageType") or []) if str(v).strip()]
    header["orientation_known"] = bool(ds.get("ImageOrientationPatient"))
    if not header["orientation_known"]:
        shared = ds.get("SharedFunctionalGroupsSequence")
        plane = shared[0].get("PlaneOrientationSequence") if shared else None
        header["orientation_known"] = bool(plane and plane[0].get("ImageOrientationPatient"))
    for key, keyword in (("slice_thickness", "SliceThickness"), ("patient_age", "PatientAge")):
        header[key] = ds.get(keyword)
    header["descriptions"] = [str(ds.get(k, "") or "") for k in ("SeriesDescription", "StudyDescription",
                                                                  "ProtocolName", "ImageComments")
                              if str(ds.get(k, "") or "").strip()] or header["descriptions"]
    return header


def _first_header(volume):
    import pydicom

    for path in volume.files[:1]:
        try:
            return pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception:  # an unreadable header leaves the header checks unknown; the pixels still count
            return None
    return None


# the checks ------------------------------------------------------------------------------------------------------
def check(spec: dict[str, Any], header: dict[str, Any], pixels: np.ndarray | None = None,
          model: str = "the model") -> UseCheck:
    """Check a series (``header`` as from ``header_of``, ``pixels`` in modality units) against ``spec``."""
    result = UseCheck(model, bool(spec.get("declared", True)))
    wanted = _as_list(spec.get("modality"))
    if wanted:
        result.checks.append(_modality(wanted, header.get("modality", "")))
    if not result.declared:
        return result
    steps = (("body_part", _body_part), ("image_type", _image_type), ("orientation", _orientation),
             ("slice_thickness_mm", _thickness), ("pixel_spacing_mm", _spacing), ("patient_age_years", _age))
    for key, step in steps:
        if spec.get(key):
            result.checks.append(step(spec[key], header))
    if spec.get("lung_fraction_min") is not None:
        result.checks.append(_lung_tissue(float(spec["lung_fraction_min"]), header, pixels))
    return result


def _modality(wanted: list[str], modality: str) -> Check:
    modality = (modality or "").upper()
    if not modality:
        return Check("modality", "unknown", f"not recorded ({'/'.join(wanted)} expected)")
    if modality in wanted:
        return Check("modality", "passed", modality)
    return Check("modality", "failed", f"{modality}, not {'/'.join(wanted)}", modality)


def regions_in(text: str) -> list[str]:
    """Body regions named in free text ("CT CHEST/PLAN" -> ["chest"]), in order, without repeats."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", text or "").lower())
    return list(dict.fromkeys(_WORD_REGION[w] for w in words if w in _WORD_REGION))


def _body_part(allowed, header: dict) -> Check:
    allowed_regions = {r for a in _as_list(allowed) for r in regions_in(a)} | {a.lower() for a in _as_list(allowed)}
    named = str(header.get("body_part") or "")
    if named:
        found = regions_in(named) or [named.lower()]
        if set(found) & allowed_regions:
            return Check("body part", "passed", f"Body Part Examined is {named}")
        return Check("body part", "failed", f"Body Part Examined is {named}", found[0])
    for text in header.get("descriptions", []):
        found = regions_in(text)
        if found:
            if set(found) & allowed_regions:
                return Check("body part", "passed", f"description '{text}' names {found[0]}")
            return Check("body part", "failed", f"description '{text}' names {found[0]}", found[0])
    return Check("body part", "unknown", "no Body Part Examined and no body part in the descriptions")


def image_kind(image_type: list[str], descriptions: list[str]) -> str:
    """Words for a non-original image: "derived 3D rendering", "scout (localizer)", "secondary reformat"."""
    words = [w for w in ("derived", "secondary") if w.upper() in image_type][:1]
    text = " ".join(descriptions).lower()
    tokens = set(re.findall(r"[a-z0-9]+", text)) | {t.lower() for t in image_type}
    if "localizer" in tokens or "scout" in tokens or "topogram" in tokens:
        kind = "scout (localizer)"
    elif tokens & set(_RENDERING) or "volume rendering" in text:
        kind = "3D rendering"
    elif tokens & {"mpr", "reformat", "reformatted", "mip", "csa"}:
        kind = "reformat"
    else:
        kind = "image"
    return " ".join(words + [kind])


def _image_type(required, header: dict) -> Check:
    present = header.get("image_type")
    if not present:
        return Check("image type", "unknown", "Image Type not recorded")
    shown = "\\".join(present)
    required = _as_list(required)
    localizer = {"LOCALIZER", "SCOUT", "TOPOGRAM"} & set(present)
    if all(r in present for r in required) and not localizer:
        return Check("image type", "passed", shown)
    kind = image_kind(present, header.get("descriptions", []))
    why = f"a {kind}" if localizer else f"not {'/'.join(required)}"
    return Check("image type", "failed", f"{shown}, {why}", kind)


def plane_of(row_dir, col_dir) -> str:
    normal = np.cross(np.asarray(row_dir, float), np.asarray(col_dir, float))
    length = float(np.linalg.norm(normal))
    if length == 0:
        return "unknown"
    normal = np.abs(normal / length)
    axis = int(np.argmax(normal))
    if normal[axis] < 0.9:
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def _orientation(wanted: str, header: dict) -> Check:
    if not header.get("orientation_known"):
        return Check("orientation", "unknown", "Image Orientation not recorded")
    plane = plane_of(header["row_dir"], header["col_dir"])
    if plane == str(wanted).lower():
        return Check("orientation", "passed", f"{plane} slices")
    return Check("orientation", "failed", f"{plane} slices, not {wanted}", f"{plane} slices")


def _number(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _in_range(name: str, value: float | None, bounds, unit: str, what: str) -> Check:
    low, high = float(bounds[0]), float(bounds[1])
    if value is None:
        return Check(name, "unknown", f"{what} not recorded")
    if low <= value <= high:
        return Check(name, "passed", f"{value:g} {unit}")
    return Check(name, "failed", f"{value:g} {unit}, outside {low:g}-{high:g} {unit}", f"{what} {value:g} {unit}")


def _thickness(bounds, header: dict) -> Check:
    return _in_range("slice thickness", _number(header.get("slice_thickness")), bounds, "mm", "slice thickness")


def _spacing(bounds, header: dict) -> Check:
    spacing = header.get("pixel_spacing") or (None,)
    value = _number(min(spacing)) if all(s is not None for s in spacing) else None
    return _in_range("pixel spacing", value, bounds, "mm", "pixel spacing")


def _age(bounds, header: dict) -> Check:
    text = str(header.get("patient_age") or "")
    match = re.fullmatch(r"(\d{1,3})([DWMY])", text.strip().upper())
    years = None
    if match:
        years = int(match.group(1)) / {"D": 365.25, "W": 52.18, "M": 12.0, "Y": 1.0}[match.group(2)]
    return _in_range("patient age", years, bounds, "years", "patient age")


# pixels ----------------------------------------------------------------------------------------------------------
LUNG_HU = (-950.0, -600.0)


def lung_fraction(pixels: np.ndarray, max_slices: int = 12) -> float:
    """Share of the body's voxels with lung density (HU -950 to -600), on up to ``max_slices`` evenly spaced
    slices at half resolution. The body is the largest region denser than -400 HU with its holes filled (the
    lungs are such holes); air regions touching a short stretch of the image edge with lung-like density count
    as inside too, so a tightly cropped chest still shows its lungs."""
    from scipy import ndimage as ndi

    pixels = np.asarray(pixels)
    if pixels.ndim == 2:
        pixels = pixels[None]
    picks = np.unique(np.linspace(0, len(pixels) - 1, min(max_slices, len(pixels))).round().astype(int))
    body_total = lung_total = 0
    for z in picks:
        image = np.asarray(pixels[z], np.float32)[::2, ::2]
        body = _body_mask(image, ndi)
        lung = body & (image >= LUNG_HU[0]) & (image <= LUNG_HU[1])
        body_total += int(body.sum())
        lung_total += int(lung.sum())
    return lung_total / body_total if body_total else 0.0


def _body_mask(image: np.ndarray, ndi) -> np.ndarray:
    dense = image > -400
    labels, count = ndi.label(dense)
    if count == 0:
        return np.zeros_like(dense)
    sizes = ndi.sum(dense, labels, range(1, count + 1))
    body = ndi.binary_fill_holes(labels == 1 + int(np.argmax(sizes)))
    rest, parts = ndi.label(~body)
    perimeter = 2 * (image.shape[0] + image.shape[1])
    for part in range(1, parts + 1):
        region = rest == part
        edge = int(region[0].sum() + region[-1].sum() + region[:, 0].sum() + region[:, -1].sum())
        if edge < 0.25 * perimeter and LUNG_HU[0] <= float(np.median(image[region])) <= LUNG_HU[1]:
            body |= region
    return body


def _lung_tissue(minimum: float, header: dict, pixels: np.ndarray | None) -> Check:
    if pixels is None or header.get("colour") or str(header.get("modality", "")).upper() != "CT" \
            or header.get("units") != "HU":
        return Check("lung tissue", "unknown", "pixels are not CT in HU, so lung density cannot be measured")
    share = lung_fraction(pixels)
    text = f"{share * 100:.0f}% of the body's voxels have lung density (at least {minimum * 100:.0f}% expected)"
    if share >= minimum:
        return Check("lung tissue", "passed", text)
    return Check("lung tissue", "failed", text, f"no lungs in the pixels ({share * 100:.0f}% lung-density voxels)")


def check_volume(metadata: dict, volume, model: str | None = None) -> UseCheck:
    """``check`` for a loaded series against a bundle's metadata."""
    name = model or str(metadata.get("name") or "the model")
    pixels = None if volume.is_color else volume.pixels
    return check(declared_spec(metadata), header_of(volume), pixels, name)
