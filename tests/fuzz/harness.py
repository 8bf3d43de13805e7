"""Hostile-input fuzzing shared by the test suite (a small run) and ``scripts/fuzz_long.py`` (>= 10,000 cases).

Inputs are real files (pydicom's test files, a DICOMDIR, small VCF/CSV/FHIR/notes samples) damaged the ways files
arrive damaged: truncated, bytes flipped, VRs replaced, lengths set huge, UIDs garbled, JPEG streams corrupted,
replaced by binary garbage, or packed into zip archives with traversal paths and bombs. Each reader must either
accept the file or reject it with a message that names it; anything else - an unexpected exception or a case that
runs past its time bound - is a failure.
"""
from __future__ import annotations

import io
import signal
import zipfile
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from hypothesis import strategies as st

CASE_SECONDS = 20  # a reader that takes longer on a file of a few KB has hung
VRS = [b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT", b"OB", b"OD", b"OF",
       b"OL", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US",
       b"UT", b"\x00\x00", b"ZZ", b"\xff\xff"]
HUGE = [0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, 0x10000000, 0xFFFF, 0x80000000]


class Hang(Exception):
    pass


class Crash(Exception):
    pass


@contextmanager
def time_bound(seconds: int | None = None):
    """Raise ``Hang`` in the main thread when the block runs past ``seconds`` (default ``CASE_SECONDS``)."""
    seconds = seconds or CASE_SECONDS
    def expire(_signum, _frame):
        raise Hang(f"a case ran longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# seeds ---------------------------------------------------------------------------------------------------------
CORE_SEEDS = ("CT_small.dcm", "MR_small.dcm", "SC_rgb_jpeg_dcmtk.dcm", "JPEG2000.dcm", "MR_small_RLE.dcm",
              "rtplan.dcm", "test-SR.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "image_dfl.dcm")
# the long run adds one seed per remaining native decoder path: JPEG-LS (CharLS, libjpeg), JPEG lossless and 12-bit
# JPEG (libjpeg), J2K lossless (OpenJPEG), multi-frame colour RLE
DICOM_SEEDS = CORE_SEEDS + ("MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_gdcm.dcm", "JPGExtended.dcm",
                            "MR_small_jp2klossless.dcm", "SC_rgb_rle_2frame.dcm")


def dicom_seeds(names: tuple[str, ...] | list[str] = DICOM_SEEDS) -> dict[str, bytes]:
    """pydicom's own test files (MIT) by name."""
    from pydicom.data import get_testdata_file

    return {n: Path(get_testdata_file(n)).read_bytes() for n in names}


def dicomdir_seed() -> bytes:
    from pydicom.data import get_testdata_file

    return (Path(get_testdata_file("CT_small.dcm")).parent / "dicomdirtests" / "DICOMDIR").read_bytes()


# mutations -----------------------------------------------------------------------------------------------------
def _element_offsets(data: bytes) -> list[int]:
    """Offsets of 2-letter VRs after a tag in explicit-VR data: where VR and length damage matters most."""
    offsets = []
    for vr in (b"UI", b"PN", b"LO", b"SQ", b"OB", b"OW", b"CS", b"US", b"DA", b"UL", b"SH", b"IS", b"DS"):
        start = 132
        while (start := data.find(vr, start + 1)) != -1 and len(offsets) < 400:
            offsets.append(start)
    return sorted(offsets)


@st.composite
def mutation(draw, data: bytes) -> bytes:
    kind = draw(st.sampled_from(["truncate", "flip", "vr", "length", "uid", "splice", "jpeg"]))
    out = bytearray(data)
    offsets = _element_offsets(data) or [132]
    if kind == "truncate":
        return bytes(out[:draw(st.integers(0, len(out) - 1))])
    if kind == "flip":
        for _ in range(draw(st.integers(1, 8))):
            out[draw(st.integers(0, len(out) - 1))] = draw(st.integers(0, 255))
    elif kind == "vr":
        at = draw(st.sampled_from(offsets))
        out[at:at + 2] = draw(st.sampled_from(VRS))
    elif kind == "length":
        at = draw(st.sampled_from(offsets)) + 2
        long_vr = bytes(out[at - 2:at]) in (b"OB", b"OW", b"SQ", b"UN", b"UT", b"UC", b"UR", b"OF", b"OD", b"OL")
        value = draw(st.sampled_from(HUGE))
        if long_vr:
            out[at + 2:at + 6] = value.to_bytes(4, "little")
        else:
            out[at:at + 2] = (value & 0xFFFF).to_bytes(2, "little")
    elif kind == "uid":
        at = draw(st.sampled_from(offsets))
        junk = draw(st.sampled_from([b"\xff" * 8, b"..", b"1..2", b"\x00" * 6, b"a" * 70, b"-1.2"]))
        out[at + 4:at + 4 + len(junk)] = junk
    elif kind == "splice":
        at = draw(st.integers(0, len(out)))
        out[at:at] = draw(st.binary(min_size=1, max_size=64))
    else:  # corrupt the inside of an encapsulated JPEG/J2K/RLE stream (or the end of the file)
        soi = max(data.rfind(b"\xff\xd8"), data.rfind(b"\xff\x4f\xff\x51"), len(data) // 2)
        for _ in range(draw(st.integers(1, 16))):
            at = draw(st.integers(soi, len(out) - 1))
            out[at] = draw(st.sampled_from([0xFF, 0x00, 0xD9, 0xDA, 0xC4, draw(st.integers(0, 255))]))
    return bytes(out)


def damaged(seeds: dict[str, bytes]):
    """A damaged copy of one seed (1-3 mutations), or plain binary garbage (with or without a DICOM preamble)."""
    garbage = st.one_of(st.binary(max_size=2048),
                        st.binary(max_size=1024).map(lambda b: b"\x00" * 128 + b"DICM" + b))
    names = sorted(seeds)

    @st.composite
    def one(draw):
        if draw(st.integers(0, 9)) == 0:
            return "garbage", draw(garbage)
        name = draw(st.sampled_from(names))
        data = seeds[name]
        for _ in range(draw(st.integers(1, 3))):
            data = draw(mutation(data)) if len(data) > 1 else data
        return name, data
    return one()


@st.composite
def hostile_zip(draw, seed: bytes, damage_directory: bool = False) -> tuple[bytes, list[str]]:
    """A zip with a real DICOM member plus traversal names, links, bombs or a damaged central directory."""
    buf = io.BytesIO()
    unsafe = []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("study/IM0001", seed)
        for _ in range(draw(st.integers(0, 3))):
            kind = draw(st.sampled_from(["traversal", "absolute", "link", "bomb", "plain"]))
            if kind == "traversal":
                name = draw(st.sampled_from(["../evil.dcm", "a/../../evil.dcm", "..\\evil.dcm", "ok/../../../e"]))
                zf.writestr(name, seed)
                unsafe.append(name)
            elif kind == "absolute":
                name = draw(st.sampled_from(["/tmp/evil.dcm", "C:/evil.dcm", "//server/evil"]))
                zf.writestr(name, seed)
                unsafe.append(name)
            elif kind == "link":
                info = zipfile.ZipInfo("study/link")
                info.external_attr = (0o120777 << 16)
                zf.writestr(info, "/etc/passwd")
                unsafe.append("study/link")
            elif kind == "bomb":
                zf.writestr(f"bomb{len(unsafe)}.dcm", b"\x00" * (4 << 20))  # 4 MB of zeros: ~1000:1
                unsafe.append(f"bomb{len(unsafe)}.dcm")
            else:
                zf.writestr(f"study/IM{draw(st.integers(2, 99)):04d}", draw(st.binary(max_size=256)))
    data = buf.getvalue()
    if damage_directory:  # damage the central directory too
        at = draw(st.integers(max(0, len(data) - 200), len(data) - 1))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at + 1:]
    return data, unsafe


# outcome bookkeeping -------------------------------------------------------------------------------------------
@dataclass
class Tally:
    reader: str
    counts: Counter = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    keep: Path | None = None  # where a copy of each failing case goes (``<reader>-<outcome>-<n><suffix>``)

    def run(self, target: Callable[[Path], str], path: Path) -> None:
        try:
            with time_bound():
                outcome = target(path)
        except Hang as exc:
            self._failed("hang", f"{self.reader}: {path.name}: {exc}", path)
        except Crash as exc:
            self._failed("bad-message", f"{self.reader}: {exc}", path)
        except Exception as exc:  # anything a reader did not turn into a message is a crash
            self._failed("crash", f"{self.reader}: {path.name}: {exc.__class__.__name__}: {str(exc)[:200]}", path)
        else:
            self.counts[outcome] += 1

    def _failed(self, outcome: str, message: str, path: Path) -> None:
        self.counts[outcome] += 1
        if self.keep is not None and path.is_file():
            import shutil

            self.keep.mkdir(parents=True, exist_ok=True)
            kept = self.keep / f"{self.reader}-{outcome}-{self.counts[outcome]}{path.suffix}"
            shutil.copy(path, kept)
            message += f" (kept as {kept})"
        self.failures.append(message)

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        parts = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return f"{self.reader:<16} {self.cases:>6} cases: {parts}"


def names_file(message: str, path: Path) -> bool:
    return path.name in message or str(path) in message


# text readers --------------------------------------------------------------------------------------------------
FHIR_BUNDLE = ('{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient",'
               '"id":"p1","gender":"female","birthDate":"1950-04-02"}},{"resource":{"resourceType":"Encounter",'
               '"id":"e1","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},'
               '"period":{"start":"2024-01-03T10:00:00Z","end":"2024-01-07T12:30:00Z"},"location":[{"location":'
               '{"display":"Ward 4"},"period":{"start":"2024-01-03T10:00:00Z","end":"2024-01-05T09:00:00Z"}},'
               '{"location":{"display":"ICU"},"period":{"start":"2024-01-05T09:00:00Z","end":"2024-01-07T12:30:00Z"}}]'
               '}},{"resource":{"resourceType":"DocumentReference","id":"d1","content":[{"attachment":{"contentType":'
               '"text/plain","data":"RklORElOR1M6IE5vIGFjdXRlIGNhcmRpb3B1bG1vbmFyeSBwcm9jZXNzLg=="}}]}}]}')


def text_seeds() -> dict[str, tuple[str, bytes]]:
    """reader -> (file name, seed bytes): real files where the data cache has them, else small valid samples."""
    from tests.conftest import DATA

    def cached(rel: str, fallback: bytes, limit: int = 6000) -> bytes:
        path = DATA / rel
        return path.read_bytes()[:limit] if path.exists() else fallback
    vcf = cached("cyvcf2_tests/tests/test.snpeff.vcf",
                 b"##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
                 b"1\t100\t.\tA\tG\t50\tPASS\tDP=10\tGT:AD\t0/1:5,5\n", limit=17254)
    csv = cached("covid_testing/covid_testing.csv", b"subject_id,gender,pan_day,clinic_name\n1,female,4,ward a\n")
    note = cached("iu_reports/ecgen-radiology/1.xml",
                  b"<eCitation><AbstractText Label=\"FINDINGS\">Clear lungs.</AbstractText></eCitation>")
    return {"vcf": ("case.vcf", vcf), "table": ("case.csv", csv), "notes-xml": ("case.xml", note),
            "notes-text": ("case.txt", b"FINDINGS: No acute process. Dr. Smith called 555-123-4567 on 3/4/2020.\n"),
            "notes-fhir": ("case.json", FHIR_BUNDLE.encode()), "fhir": ("case.json", FHIR_BUNDLE.encode())}


@st.composite
def text_mutation(draw, data: bytes) -> bytes:
    """Damage text the ways exports break: lost/duplicated lines, bad bytes, huge numbers, cut files."""
    kind = draw(st.sampled_from(["bytes", "drop-line", "dup-line", "field", "number", "encoding", "long-line"]))
    if kind == "bytes":
        return draw(mutation(data))
    lines = data.split(b"\n")
    at = draw(st.integers(0, max(0, len(lines) - 1)))
    if kind == "drop-line":
        del lines[at]
    elif kind == "dup-line":
        lines.insert(at, lines[at] * draw(st.integers(1, 3)))
    elif kind == "field":
        sep = b"\t" if b"\t" in lines[at] else b","
        fields = lines[at].split(sep)
        fields[draw(st.integers(0, len(fields) - 1))] = draw(st.sampled_from(
            [b"", b".", b"-1", b"NaN", b"\xff\xfe", b"{", b"]", b'"', b"A" * 300, b"1e999", b"\x00"]))
        lines[at] = sep.join(fields)
    elif kind == "number":
        lines[at] = lines[at].replace(b"1", draw(st.sampled_from([b"99999999999999999999", b"-0", b"1e308"])), 1)
    elif kind == "encoding":
        lines[at] = draw(st.sampled_from([b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3\x28"])) + lines[at]
    else:
        lines[at] = lines[at] + b"X" * draw(st.integers(1000, 200000))
    return b"\n".join(lines)


def damaged_text(seed: bytes):
    return st.one_of(st.binary(max_size=512), text_mutation(seed))
