"""Which of pydicom's pixel decoders may run inside the workstation's own process.

pydicom tries its decoding plugins in order until one succeeds. Two of them can take the whole process down on a
damaged file, which no ``try`` around ``as_array`` can stop:

- **GDCM** (C++): on a corrupt JPEG stream ``Image.GetBuffer`` throws a C++ exception that the SWIG wrapper does
  not translate, and the process aborts. GDCM is therefore taken out of pydicom's plugin lists; MedStation still
  uses it, but only in a short-lived child process (``decode._gdcm_pixels``) for files the other decoders refuse.
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

import threading

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
        _done = True


def in_process_plugins(syntax: str) -> tuple[str, ...]:
    """The plugins pydicom may run in this process for ``syntax``, in the order it tries them (after
    ``confine()``)."""
    from pydicom.pixels import get_decoder

    confine()
    return tuple(get_decoder(syntax)._available)
