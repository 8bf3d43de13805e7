"""Which pixel decoders run inside the workstation's own process, and GDCM in a process of its own.

pydicom tries its decoding plugins in order until one succeeds. Two of them can take the whole process down on a
damaged file, which no ``try`` around ``as_array`` can stop:

- **GDCM** (C++): on a corrupt JPEG stream ``Image.GetBuffer`` throws a C++ exception that the SWIG wrapper does
  not translate, and the process aborts. GDCM is therefore taken out of pydicom's plugin lists; MedStation still
  uses it, but only in a short-lived child process (``gdcm_pixels``) for files the other decoders refuse.
- **pylibjpeg** (its RLE decoder is Rust): an out-of-bounds read on a damaged RLE segment panics, and pyo3 raises
  ``PanicException``, which derives from ``BaseException`` - past every ``except Exception``, pydicom's own plugin
  loop included. The plugin is kept (it is the fast RLE and JPEG decoder) but wrapped so that a panic becomes an
  ordinary error: pydicom then tries its next plugin, and a file no plugin decodes is rejected with its name.

With GDCM gone from the front of the JPEG lists, 8-bit lossy JPEG goes to **Pillow** first: its libjpeg-turbo
upsamples chroma and converts colour as the IJG code in GDCM does (within 1 level of it), where pylibjpeg's libjpeg
differs by up to 5 levels on 4:2:2 colour. pylibjpeg stays next for what Pillow cannot read (12-bit, lossless).

``confine()`` applies all of this to every transfer syntax once per process; ``decode`` calls it before decoding.
"""
from __future__ import annotations

import logging
import threading

import numpy as np

IN_CHILD_ONLY = ("gdcm",)  # native decoders that can abort the process: never run in-process
GUARDED = "pylibjpeg"  # a decoder whose Rust parts can panic: kept, with panics turned into errors
FIRST = {"1.2.840.10008.1.2.4.50": "pillow", "1.2.840.10008.1.2.4.51": "pillow"}  # JPEG baseline and extended

_lock = threading.Lock()
_done = False


class DecoderPanic(RuntimeError):
    """A native decoder panicked on this frame (the data is damaged); pydicom goes on to its next plugin."""


def _pylibjpeg():
    from pydicom.pixels.decoders import pylibjpeg

    return pylibjpeg


def is_available(uid: str) -> bool:
    """pydicom's plugin protocol: the guarded plugin is available exactly when pylibjpeg's is."""
    return _pylibjpeg().is_available(uid)


def __getattr__(name: str):
    if name == "DECODER_DEPENDENCIES":  # pydicom's plugin protocol, read only when a dependency is missing
        return _pylibjpeg().DECODER_DEPENDENCIES
    raise AttributeError(name)


def guarded_decode_frame(src: bytes, runner) -> bytearray:
    """pylibjpeg's frame decoder with a Rust panic (or any other non-``Exception`` escape) turned into
    ``DecoderPanic``; interrupts and exits pass through."""
    try:
        return _pylibjpeg()._decode_frame(src, runner)
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except Exception:
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3's PanicException is a BaseException
        raise DecoderPanic(f"the pylibjpeg decoder failed on damaged data ({exc})") from None


def confine() -> None:
    """Take the abort-prone plugins out of (or guard them in) every pydicom decoder, keeping the order in which
    pydicom tries the rest. Idempotent and thread-safe."""
    global _done
    if _done:
        return
    with _lock:
        if _done:
            return
        from pydicom.pixels import get_decoder
        from pydicom.uid import AllTransferSyntaxes, UID

        for syntax in AllTransferSyntaxes:
            try:
                decoder = get_decoder(UID(syntax))
            except NotImplementedError:
                continue
            order = list(decoder._available.items())  # pydicom's try order (no public accessor keeps it)
            if not any(label in IN_CHILD_ONLY or label == GUARDED for label, _ in order):
                continue
            first = FIRST.get(str(syntax))
            order.sort(key=lambda item: item[0] != first)  # stable: the rest keep pydicom's order
            for label, _ in order:
                decoder.remove_plugin(label)
            for label, func in order:
                if label in IN_CHILD_ONLY:
                    continue
                where = (__name__, "guarded_decode_frame") if label == GUARDED else (func.__module__, func.__name__)
                decoder.add_plugin(label, where)
        logging.getLogger("pydicom.pixels.decoders.base").addFilter(_quiet_plugin_failures)
        _done = True


def _quiet_plugin_failures(record: logging.LogRecord) -> bool:
    """pydicom logs every plugin that fails on a frame with a full traceback, even when the next plugin (or GDCM's
    child process) decodes it; MedStation reports the outcome itself, naming the file. The tracebacks stay
    available with ``--verbose`` (root logger at DEBUG)."""
    return not record.exc_info or logging.getLogger().isEnabledFor(logging.DEBUG)


def in_process_plugins(syntax: str) -> tuple[str, ...]:
    """The plugins pydicom may run in this process for ``syntax``, in the order it tries them (after
    ``confine()``)."""
    from pydicom.pixels import get_decoder

    confine()
    return tuple(get_decoder(syntax)._available)


# GDCM in its own process ------------------------------------------------------------------------------------

_GDCM_TYPES = {"UINT8": np.uint8, "INT8": np.int8, "UINT16": np.uint16, "INT16": np.int16, "UINT32": np.uint32,
               "INT32": np.int32, "FLOAT32": np.float32, "FLOAT64": np.float64}


class GdcmFailed(Exception):
    """GDCM, run on a file pydicom's decoders refused, died or hung; the message says how."""


GDCM_SECONDS = 60  # one file in GDCM's own process; longer than this and it has hung
_GDCM_NO_IMAGE = 3  # the child's exit status when GDCM cannot read the file either
_GDCM_CHILD = ("import sys; sys.path[0] = sys.argv[3]; from medstation.core.imaging.plugins import _gdcm_child; "
               "sys.exit(_gdcm_child(sys.argv[1], sys.argv[2]))")
GDCM_CHILD_FLAG = "--gdcm-child"  # the desktop build's executable runs the child itself (packaging/entry.py)


def _child_command(path: str, out: str) -> list[str]:
    """How to start GDCM's process: this interpreter with ``_GDCM_CHILD``, or in the desktop build (no Python
    interpreter to hand ``-c`` to) the application's own executable with ``GDCM_CHILD_FLAG``."""
    import sys
    from pathlib import Path

    if getattr(sys, "frozen", False):
        return [sys.executable, GDCM_CHILD_FLAG, str(path), str(out)]
    return [sys.executable, "-c", _GDCM_CHILD, str(path), str(out), str(Path(__file__).resolve().parents[3])]


def gdcm_pixels(path: str) -> np.ndarray | None:
    """Stored pixel values as GDCM decodes them (frames, rows, cols[, samples]), or None if GDCM is not installed
    or cannot read the file either.

    GDCM runs in a short-lived child process: on some damaged files it throws a C++ exception nothing catches,
    which aborts the process it runs in - here the child, never the workstation. The pixels come back through a
    temporary .npy file. Raises ``GdcmFailed`` when the child crashed, hung past ``GDCM_SECONDS`` or failed.
    """
    import importlib.util
    import subprocess
    import tempfile
    from pathlib import Path

    if importlib.util.find_spec("gdcm") is None:
        return None
    with tempfile.TemporaryDirectory(prefix="medstation-gdcm-") as tmp:
        out = Path(tmp) / "pixels.npy"
        try:
            done = subprocess.run(_child_command(path, str(out)), stdin=subprocess.DEVNULL, capture_output=True,
                                  timeout=GDCM_SECONDS)
        except subprocess.TimeoutExpired:
            raise GdcmFailed(f"GDCM, tried next, did not finish within {GDCM_SECONDS} s and was stopped") from None
        except OSError as exc:
            raise GdcmFailed(f"GDCM, tried next, could not be started ({exc})") from None
        if done.returncode == 0:
            try:
                return np.load(out, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise GdcmFailed(f"GDCM, tried next, returned unreadable pixels ({exc})") from None
        if done.returncode == _GDCM_NO_IMAGE:
            return None
        raise GdcmFailed(f"GDCM, tried next, {_child_death(done.returncode, done.stderr)}")


def _child_death(code: int, stderr: bytes) -> str:
    """How GDCM's process ended, with the last line it printed (e.g. the C++ exception's text)."""
    import signal

    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    said = f": {lines[-1][:200]}" if lines else ""
    if code < 0:
        try:
            how = signal.Signals(-code).name
        except ValueError:
            how = f"signal {-code}"
        return f"crashed on this file ({how}){said}"
    return f"failed on this file (exit status {code}){said}"


def _gdcm_child(path: str, out: str) -> int:
    """In GDCM's child process: decode ``path`` and save the pixels to ``out`` (.npy); ``_GDCM_NO_IMAGE`` when
    GDCM cannot read it."""
    arr = _gdcm_read(path)
    if arr is None:
        return _GDCM_NO_IMAGE
    np.save(out, np.ascontiguousarray(arr), allow_pickle=False)
    return 0


def _gdcm_read(path: str) -> np.ndarray | None:
    import gdcm

    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        return None
    image = reader.GetImage()
    fmt = image.GetPixelFormat()
    dtype = _GDCM_TYPES.get(fmt.GetScalarTypeAsString())
    if dtype is None:
        return None
    dims = list(image.GetDimensions())
    cols, rows = dims[0], dims[1]
    frames = dims[2] if len(dims) > 2 else 1
    samples = fmt.GetSamplesPerPixel()
    data = np.frombuffer(image.GetBuffer().encode("utf-8", "surrogateescape"), dtype=dtype)
    shape = (frames, rows, cols, samples) if samples > 1 else (frames, rows, cols)
    if data.size != int(np.prod(shape)):
        return None
    return data.reshape(shape) if frames > 1 else data.reshape(shape[1:])
