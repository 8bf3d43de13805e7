"""Orientation labels, reslicing into display orientation, plane spacing, and stack assembly."""
from __future__ import annotations

import numpy as np
import pytest

from medstation.core.imaging import geometry
from medstation.core.imaging.geometry import SliceInfo, assemble, orientation_labels, plane_spacing, reslice
from medstation.core.imaging.model import Volume

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_orientation_labels_axial_coronal_sagittal_and_oblique():
    assert orientation_labels((1, 0, 0), (0, 1, 0)) == {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    assert orientation_labels((1, 0, 0), (0, 0, -1)) == {"left": "R", "right": "L", "top": "S", "bottom": "I"}
    assert orientation_labels((0, 1, 0), (0, 0, -1)) == {"left": "A", "right": "P", "top": "S", "bottom": "I"}
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    labels = orientation_labels((c, -s, 0), (s, c, 0))  # axial rotated 30 degrees
    assert labels["right"] == "LA" and labels["left"] == "RP" and labels["bottom"] == "PL"
    assert orientation_labels((1, 0, 0), (0, 0.999, -0.04))["bottom"] == "P"  # slight tilt: one letter


def _axial_volume() -> Volume:
    # voxel value encodes its index: 100*z + 10*y + x; z increases superiorly, rows posteriorly, cols leftwards
    z, y, x = np.meshgrid(np.arange(4), np.arange(3), np.arange(5), indexing="ij")
    return Volume(pixels=(100 * z + 10 * y + x).astype(np.float32), spacing=(2.5, 0.8, 0.6),
                  row_dir=(1, 0, 0), col_dir=(0, 1, 0), slice_dir=(0, 0, 1))


def test_reslice_axial_coronal_sagittal_in_display_orientation():
    vol = _axial_volume()
    np.testing.assert_array_equal(reslice(vol, "axial", 2), vol.pixels[2])
    coronal = reslice(vol, "coronal", 1)  # superior at the top: highest z first
    assert coronal.shape == (4, 5)
    np.testing.assert_array_equal(coronal[:, 0], [310, 210, 110, 10])
    np.testing.assert_array_equal(coronal[0], 310 + np.arange(5))
    sagittal = reslice(vol, "sagittal", 3)  # anterior on the left, superior at the top
    assert sagittal.shape == (4, 3)
    np.testing.assert_array_equal(sagittal[0], [303, 313, 323])
    assert plane_spacing(vol, "axial") == (0.8, 0.6)
    assert plane_spacing(vol, "coronal") == (2.5, 0.6)
    assert plane_spacing(vol, "sagittal") == (2.5, 0.8)
    assert geometry.plane_labels(vol, "coronal") == {"left": "R", "right": "L", "top": "S", "bottom": "I"}


def test_reslice_of_a_feet_first_sagittal_acquisition():
    # acquired sagittally: columns run posterior->anterior?  rows inferior, slices to the patient's left
    z, y, x = np.meshgrid(np.arange(3), np.arange(4), np.arange(6), indexing="ij")
    vol = Volume(pixels=(100 * z + 10 * y + x).astype(np.float32), spacing=(3.0, 1.0, 0.5),
                 row_dir=(0, 1, 0), col_dir=(0, 0, -1), slice_dir=(1, 0, 0))
    axial = reslice(vol, "axial", 0)  # index along z(S/I) -> volume rows; shows x(L) to the right, y(P) down
    assert axial.shape == (6, 3)  # rows: P (volume columns), cols: L (slices)
    np.testing.assert_array_equal(axial[:, 0], np.arange(6))  # anterior->posterior goes down
    np.testing.assert_array_equal(axial[0], [0, 100, 200])
    assert plane_spacing(vol, "axial") == (0.5, 3.0)
    sag = reslice(vol, "sagittal", 1)
    np.testing.assert_array_equal(sag, vol.pixels[1])
    for plane in geometry.PLANES:
        for idx in range(geometry.plane_count(vol, plane)):
            img = reslice(vol, plane, idx)
            r, c = img.shape[0] - 1, img.shape[1] // 2
            zyx = geometry.plane_to_voxel(vol, plane, idx, r, c)
            assert vol.pixels[zyx] == img[r, c]
            assert geometry.voxel_to_plane(vol, plane, zyx) == (idx, r, c)


def test_reslice_rejects_bad_plane_and_index():
    vol = _axial_volume()
    with pytest.raises(ValueError, match="unknown plane"):
        reslice(vol, "oblique", 0)
    with pytest.raises(IndexError):
        reslice(vol, "axial", 4)


def _slices(positions, orientation=AXIAL, size=(4, 4)):
    return [SliceInfo(i, size[0], size[1], orientation, (0.0, 0.0, float(z)), i) for i, z in enumerate(positions)]


def test_assemble_sorts_by_position_not_instance_number():
    stacks = assemble(_slices([5, 0, 2.5, 10, 7.5]))
    assert len(stacks) == 1 and [s.position[2] for s in stacks[0].slices] == [0, 2.5, 5, 7.5, 10]
    assert stacks[0].spacing == pytest.approx(2.5) and not stacks[0].warnings


def test_assemble_splits_gaps_duplicates_sizes_and_orientations():
    gap = assemble(_slices([0, 1, 2, 3, 8, 9, 10]))
    assert [len(s.slices) for s in gap] == [4, 3] and "gap" in gap[0].warnings[0]
    dup = assemble(_slices([0, 1, 2, 1, 3]))
    assert sorted(len(s.slices) for s in dup) == [1, 4]
    mixed = assemble(_slices([0, 1, 2]) + _slices([0, 1], size=(8, 8)))
    assert len(mixed) == 2 and "mixed image sizes" in mixed[0].warnings[0]
    coronal = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
    orient = assemble(_slices([0, 1, 2]) + [SliceInfo(9, 4, 4, coronal, (0.0, 5.0, 0.0), 9)])
    assert len(orient) == 2 and "mixed orientations" in orient[0].warnings[0]


def test_uneven_spacing_is_flagged_as_geometry_problem():
    stacks = assemble(_slices([0, 1, 2, 3.3, 4.3]))
    assert len(stacks) == 1 and any(w.startswith("geometry: uneven") for w in stacks[0].warnings)


def test_slices_without_position_follow_instance_number():
    infos = [SliceInfo(i, 4, 4, None, None, n) for i, n in enumerate([3, 1, 2])]
    stack = assemble(infos)[0]
    assert [s.instance for s in stack.slices] == [1, 2, 3]
    assert stack.warnings[0].startswith("geometry:")
