"""Clean Pixel Data (PS3.15 E.3.1, DCM 113101): find burned-in text with Tesseract OCR and blank it.

``needs_cleaning`` says which images get it by default (ultrasound, angiography, endoscopy, photos, OT and
Secondary Capture, DERIVED/SECONDARY images, and any image whose Burned In Annotation is YES). ``clean`` runs
Tesseract (the Debian ``tesseract-ocr`` package through pytesseract) on each frame, pads every word it reads into a
rectangle, fills the rectangles with the image's minimum value in every frame, and writes the pixels back
uncompressed. The result lists the blanked regions and carries an 8-bit preview for review before anything is
written. Without Tesseract the image is refused, never exported with its text.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from medstation.core.errors import MedStationError

DEFAULT_MODALITIES = {"US", "XA", "ES", "XC", "OT"}
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
MIN_CONFIDENCE = 40  # Tesseract's word confidence (0-100); lower-confidence readings are noise on images
PAD = 3  # pixels around each word
MAX_FRAMES_READ = 8  # frames read by OCR in a multi-frame image (evenly spaced); the union of regions is blanked
BRIGHT = 200  # burned-in text is drawn near white: a second OCR pass reads only pixels at least this bright


@dataclass(frozen=True)
class Region:
    x: int
    y: int
    width: int
    height: int
    text: str

    def as_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height, "text": self.text}


@dataclass
class Cleaning:
    regions: list[Region] = field(default_factory=list)
    preview: np.ndarray | None = None  # 8-bit grey or RGB of the first frame, after blanking


def needs_cleaning(ds) -> bool:
    """Whether Clean Pixel Data applies by default: images that usually carry burned-in text."""
    if "PixelData" not in ds:
        return False
    burned = str(ds.get("BurnedInAnnotation", "") or "").upper()
    image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
    return (burned == "YES" or str(ds.get("Modality", "") or "").upper() in DEFAULT_MODALITIES
            or str(ds.get("SOPClassUID", "") or "").startswith(SECONDARY_CAPTURE_PREFIX)
            or image_type[:2] == ["DERIVED", "SECONDARY"])


def _bundled() -> None:
    """In the desktop build, use the tesseract binary and model carried inside it."""
    import sys

    base = getattr(sys, "_MEIPASS", None)
    if base:
        import os

        import pytesseract

        folder = os.path.join(base, "tesseract")
        if os.path.exists(os.path.join(folder, "tesseract")):
            pytesseract.pytesseract.tesseract_cmd = os.path.join(folder, "tesseract")
            os.environ.setdefault("TESSDATA_PREFIX", os.path.join(folder, "tessdata"))


def available() -> str | None:
    """None when Tesseract can be run, else why not (one sentence)."""
    try:
        import pytesseract

        _bundled()
        pytesseract.get_tesseract_version()
    except Exception as exc:  # not installed, or the binary is missing
        return (f"Tesseract OCR is not available ({exc.__class__.__name__}); install the tesseract-ocr package to "
                "clean burned-in text")
    return None


def _frames(arr: np.ndarray, ds) -> np.ndarray:
    """(frames, rows, cols[, 3])."""
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return arr if frames > 1 else arr[np.newaxis]


def to_8bit(frame: np.ndarray) -> np.ndarray:
    grey = frame.astype(np.float32)
    lo, hi = float(grey.min()), float(grey.max())
    return ((grey - lo) / (hi - lo or 1.0) * 255).astype(np.uint8)


def find_text(image: np.ndarray) -> list[Region]:
    """Words Tesseract reads in one 8-bit image (grey or RGB), as padded rectangles: once on the image, once on
    its brightest pixels as black on white (text over anatomy or on a grey disk is found that way)."""
    grey = image.max(axis=-1) if image.ndim == 3 else image
    bright = np.where(grey >= BRIGHT, 0, 255).astype(np.uint8)
    scale = 2 if max(grey.shape) < 1024 else 1  # small overlay fonts read far better at twice the size
    if scale > 1:
        bright = np.repeat(np.repeat(bright, scale, axis=0), scale, axis=1)
    regions = {}
    for picture, factor in ((image, 1), (bright, scale)):
        for r in _ocr(picture):
            x, y = r.x // factor, r.y // factor
            region = Region(x, y, -(-(r.x + r.width) // factor) - x, -(-(r.y + r.height) // factor) - y, r.text)
            regions.setdefault((region.x, region.y, region.width, region.height), region)
    return list(regions.values())


def _ocr(image: np.ndarray) -> list[Region]:
    import pytesseract
    from PIL import Image

    data = pytesseract.image_to_data(Image.fromarray(image), config="--psm 11",
                                     output_type=pytesseract.Output.DICT)
    regions = []
    rows, cols = image.shape[:2]
    for i, text in enumerate(data["text"]):
        text = text.strip()
        if not any(c.isalnum() for c in text) or float(data["conf"][i]) < MIN_CONFIDENCE \
                or data["height"][i] > max(rows // 8, 48):  # taller than any overlay text: anatomy read as a letter
            continue
        x, y = max(0, data["left"][i] - PAD), max(0, data["top"][i] - PAD)
        w = min(cols, data["left"][i] + data["width"][i] + PAD) - x
        h = min(rows, data["top"][i] + data["height"][i] + PAD) - y
        regions.append(Region(int(x), int(y), int(w), int(h), text))
    return regions


def clean(ds, source: str = "") -> Cleaning:
    """Blank every region of burned-in text in ``ds`` (in place); the regions and a preview."""
    problem = available()
    if problem:
        raise MedStationError(f"{source or 'image'}: {problem}", kept="the image was not exported")
    from medstation.core.imaging.decode import stored_pixels

    arr = stored_pixels(ds, source)  # GDCM, which can abort a process on damaged data, runs in a child
    frames = _frames(arr, ds)
    picks = np.unique(np.linspace(0, len(frames) - 1, min(len(frames), MAX_FRAMES_READ)).round().astype(int))
    regions: dict[tuple[int, int, int, int], Region] = {}
    for index in picks:
        for region in find_text(to_8bit(frames[index])):
            regions.setdefault((region.x, region.y, region.width, region.height), region)
    result = Cleaning(sorted(regions.values(), key=lambda r: (r.y, r.x)))
    if result.regions:
        cleaned = frames.copy()
        fill = cleaned.min()
        for r in result.regions:
            cleaned[:, r.y:r.y + r.height, r.x:r.x + r.width] = fill
        _store(ds, cleaned if len(frames) > 1 else cleaned[0])
        frames = cleaned
    result.preview = to_8bit(frames[0])
    return result


def _store(ds, arr: np.ndarray) -> None:
    """Write the blanked pixels back, uncompressed (a lossy re-encode could smear the blanked areas)."""
    photometric = str(ds.PhotometricInterpretation)
    if arr.ndim >= 3 and arr.shape[-1] == 3 and int(ds.get("SamplesPerPixel", 1)) == 3:
        photometric = "RGB"  # pydicom decodes YBR to RGB
    if photometric == "PALETTE COLOR" and arr.ndim >= 3 and arr.shape[-1] == 3:
        photometric = "RGB"
    ds.set_pixel_data(arr, photometric, int(ds.BitsStored))


def save_preview(preview: np.ndarray, path) -> None:
    from PIL import Image

    from medstation.core import atomic

    with atomic.atomic_path(path, overwrite=False) as tmp:
        Image.fromarray(preview).save(tmp, format="PNG")
