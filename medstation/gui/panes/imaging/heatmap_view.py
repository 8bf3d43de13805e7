"""The heat-map side of a slice viewer: heat maps of the series on screen, kept in the shared overlay registry
(``medstation.core.imaging.overlays``) by series and model run, and the colour bar shown only while the series on
screen has one."""
from __future__ import annotations

import numpy as np

from medstation.core.imaging.overlays import HEATMAP


class HeatmapViewMixin:
    """Mixed into ``SliceViewer``: uses its ``volume``, ``heatmaps`` (layer), ``overlays`` (registry),
    ``image_item``, ``canvas`` and ``colorbar``."""

    colorbar_wanted = True

    def set_heatmap(self, z: int, heatmap: np.ndarray, run: str = "") -> None:
        """Show ``heatmap`` (float 0..1, the slice's rows x columns) of model run ``run`` over native slice ``z``
        of the series on screen, whenever that series and slice are shown (kept in ``overlays``)."""
        if self.volume is None:
            raise ValueError("no series on screen to attach a heat map to")
        self.heatmaps.set(z, heatmap, self.volume.pixels.shape[1:3])
        self.overlays.add(self.volume, run, HEATMAP, z, self.heatmaps.maps[int(z)])
        self.image_item.set_heat(self._heat())
        self._show_colorbar(True)

    def clear_heatmaps(self) -> None:
        """Remove the heat maps of the series on screen (other series keep theirs)."""
        if self.volume is not None:
            self.overlays.discard(series_uid=self.volume.series_uid, kind=HEATMAP)
        self.heatmaps.clear()
        self.image_item.set_heat(None)
        self._show_colorbar(False)

    def _load_overlays(self) -> None:
        """Take the heat maps that belong to the images of the volume now on screen (none for other series)."""
        entry = self.overlays.latest(self.volume, HEATMAP)
        if entry is not None:
            for z, data in entry.for_volume(self.volume).items():
                self.heatmaps.set(z, data, self.volume.pixels.shape[1:3])
        self._show_colorbar(bool(self.heatmaps.maps))

    def configure_heatmap(self, **options) -> None:
        """visible, opacity (0..1), threshold (0..1), colormap (name), colorbar (bool)."""
        colorbar = options.pop("colorbar", None)
        self.heatmaps.configure(**options)
        if "colormap" in options:
            self.colorbar.setColorMap(self.heatmaps.colormap_object())
        self.image_item.set_heat(self._heat())
        if colorbar is not None:
            self.colorbar_wanted = bool(colorbar)
        self._show_colorbar(bool(self.heatmaps.maps))

    def _show_colorbar(self, have_maps: bool) -> None:
        show = have_maps and self.colorbar_wanted and self.heatmaps.visible
        if show and not self._colorbar_shown:
            self.canvas.ci.addItem(self.colorbar, 0, 1)
        elif not show and self._colorbar_shown:
            self.canvas.ci.removeItem(self.colorbar)
        self._colorbar_shown = show
