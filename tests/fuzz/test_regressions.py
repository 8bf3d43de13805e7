"""Files the long fuzz run found that took a reader down; each must now be rejected with a message, in-process."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

DATA = Path(__file__).parent / "data"


def _in_a_child(tmp_path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter: a native abort fails the test instead of killing pytest."""
    env = {"MEDSTATION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=120)


def test_damaged_j2k_does_not_abort_the_process(tmp_path):
    code = ("from medstation.core.errors import MedStationError\n"
            "from medstation.core.imaging.loader import load_files\n"
            f"try:\n    load_files([{str(DATA / 'gdcm_abort_j2k.dcm')!r}])\n"
            "except MedStationError as exc:\n    print('rejected:', exc.sentence())\n")
    result = _in_a_child(tmp_path, code)
    assert result.returncode == 0, f"the process died ({result.returncode}): {result.stderr[-300:]}"
    if "rejected:" in result.stdout:  # GDCM crashed in its own process: the message says so and names the file
        assert "gdcm_abort_j2k.dcm" in result.stdout and "GDCM, tried next, crashed" in result.stdout, result.stdout


def test_damaged_jpeg_is_rejected_by_the_viewer_and_by_deidentification_without_an_abort(tmp_path):
    """pydicom tried its GDCM plugin first, in-process, and GDCM's C++ exception on this JPEG stream aborted the
    workstation (SIGABRT). Now the in-process plugins fail, GDCM fails in its child, and the file is named."""
    path = DATA / "gdcm_abort_jpeg.dcm"
    code = ("from medstation.core.errors import MedStationError\n"
            "from medstation.core.imaging.loader import load_files\n"
            "from medstation.core.privacy.export import deidentify_paths\n"
            f"for run in (lambda: load_files([{str(path)!r}]), lambda: deidentify_paths([{str(path)!r}], "
            f"{str(tmp_path / 'out')!r})):\n"
            "    try:\n        run()\n        print('accepted')\n"
            "    except MedStationError as exc:\n        print('rejected:', exc.sentence())\n")
    result = _in_a_child(tmp_path, code)
    assert result.returncode == 0, f"the process died ({result.returncode}): {result.stderr[-300:]}"
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("rejected: ") for line in lines), result.stdout
    assert lines[0].startswith(f"rejected: cannot decode the pixels of {path} (JPEG Baseline (Process 1)): "
                               "pillow: broken data stream"), lines[0]
    assert "GDCM, tried next, crashed on this file (SIGABRT)" in lines[0]
    assert str(path) in lines[1] or path.name in lines[1]


def test_no_decoder_that_can_abort_runs_in_process():
    from pydicom.pixels import get_decoder
    from pydicom.uid import AllTransferSyntaxes

    from medstation.core.imaging import plugins

    plugins.confine()
    seen = {}
    for syntax in AllTransferSyntaxes:
        try:
            seen[syntax] = plugins.in_process_plugins(syntax)
        except NotImplementedError:
            continue
    assert not any("gdcm" in labels for labels in seen.values()), seen
    assert seen["1.2.840.10008.1.2.5"] == ("pylibjpeg", "pydicom")  # RLE: the fast decoder first, guarded
    assert seen["1.2.840.10008.1.2.4.50"] == ("pillow", "pylibjpeg")  # libjpeg-turbo decodes like GDCM's IJG code
    assert seen["1.2.840.10008.1.2.4.90"] == ("pylibjpeg", "pillow")
    assert get_decoder("1.2.840.10008.1.2.5")._available["pylibjpeg"] is plugins.guarded_decode_frame


def test_a_rust_decoder_panic_is_an_ordinary_decoder_failure(tmp_path):
    """pylibjpeg's Rust RLE decoder panics on this damaged segment; pyo3's PanicException is a BaseException and
    went past every ``except Exception`` (pydicom's own plugin loop included) up to the window. Now the panic is a
    ``DecoderPanic``, pydicom goes on to its own RLE decoder, and the file loads."""
    import pytest
    from pydicom import dcmread
    from pydicom.encaps import generate_fragmented_frames
    from pydicom.pixels import get_decoder
    from pydicom.pixels.decoders.base import DecodeRunner

    from medstation.core.imaging import plugins
    from medstation.core.imaging.loader import load_files

    path = DATA / "rle_panic.dcm"
    ds = dcmread(path)
    runner = DecodeRunner(ds.file_meta.TransferSyntaxUID)
    runner.set_source(ds)
    src = b"".join(next(generate_fragmented_frames(ds.PixelData, number_of_frames=1)))
    frame, _ = get_decoder(ds.file_meta.TransferSyntaxUID).as_array(ds, decoding_plugin="pydicom")
    with pytest.raises(plugins.DecoderPanic, match="the pylibjpeg decoder failed on damaged data"):
        plugins.guarded_decode_frame(src, runner)
    volumes = load_files([path])
    assert len(volumes) == 1 and volumes[0].pixels.shape == (1, 64, 64)
    assert (volumes[0].pixels[0] == frame.astype("float32")).all()  # what pydicom's own RLE decoder made of it


def test_a_damaged_header_element_is_named_not_raised(tmp_path):
    """The harness's VR damage on a real file: Image Orientation (Patient) marked FD instead of DS. pydicom reads
    the file and raises only when the element is first used, which was in the viewer's display set-up: an
    unhandled BytesLengthException. Now the file is rejected naming it and the element."""
    import pytest
    from pydicom.data import get_testdata_file

    from medstation.core.errors import MedStationError
    from medstation.core.imaging.loader import load_files

    data = Path(get_testdata_file("MR_small.dcm")).read_bytes()
    tag = b"\x20\x00\x37\x00DS"
    assert data.count(tag) == 1
    path = tmp_path / "orientation_as_fd.dcm"
    path.write_bytes(data.replace(tag, b"\x20\x00\x37\x00FD"))
    with pytest.raises(MedStationError) as info:
        load_files([path])
    assert info.value.sentence() == (f"cannot interpret the header of {path}: the element (0020,0037) holds 42 bytes, "
                                     "not a whole number of FD values (damaged VR or length). The file was not "
                                     "loaded.")


def test_an_image_without_rows_is_named_not_raised(tmp_path):
    """A real uncompressed image whose Rows element is gone: the fast raw reader took the minimum of an empty
    array (ValueError). Now the file is rejected with its size."""
    import pytest
    from pydicom import dcmread
    from pydicom.data import get_testdata_file

    from medstation.core.errors import MedStationError
    from medstation.core.imaging.loader import load_files

    ds = dcmread(get_testdata_file("MR_small.dcm"))
    del ds.Rows
    path = tmp_path / "no_rows.dcm"
    ds.save_as(path)
    with pytest.raises(MedStationError) as info:
        load_files([path])
    assert info.value.sentence() == (f"{path}: the image is 0x64 pixels (Rows (0028,0010) or Columns (0028,0011) "
                                     "missing or zero). The file was not loaded.")


def test_a_file_only_gdcm_decodes_opens_without_tracebacks_on_the_terminal(tmp_path):
    """12-bit JPEG Extended: Pillow and pylibjpeg fail, GDCM's child process decodes it. pydicom logs each failed
    plugin with a traceback; the user sees the image's summary only (tracebacks stay for ``--verbose``)."""
    import pydicom.data

    path = pydicom.data.get_testdata_file("JPEG-lossy.dcm")
    env = {"MEDSTATION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    quiet, verbose = (subprocess.run([sys.executable, "-m", "medstation", *flag, "imaging", "info", path], env=env,
                                     cwd=REPO, capture_output=True, text=True, timeout=120)
                      for flag in ([], ["--verbose"]))
    assert quiet.returncode == 0, quiet.stderr[-300:]
    assert "shape 1x1024x256" in quiet.stdout and "values 0 .. 264" in quiet.stdout
    assert "Traceback" not in quiet.stderr and "libjpeg error" not in quiet.stderr, quiet.stderr
    assert "Traceback" in verbose.stderr  # still there for whoever asks
