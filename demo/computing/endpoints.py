"""The functions behind each tab's endpoint: Gradio input values in, display values out.

They read the uploads (``demo.inputs``), call the tab's computation (``demo.computing.computations``) and
report files that could not be used through ``warn`` (``gr.Warning`` in the app). The benchmark calls them directly.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ..inputs.decode_budget import decode_budget
from ..inputs.gallery_values import gallery_paths
from ..inputs.photos import Photos, read_photos, shown_messages
from ..models import DemoModel, ModelRegistry
from ..results.png_store import ResultStore
from . import computations
from . import model_description as about


class Endpoints:
    """Tab functions bound to a model registry; result images come back as paths of PNG files.

    ``allowed``: the folders input files must lie in (the app passes its upload folders, so that a request
    cannot make the server read other files); None reads any path (the benchmark's own files)."""

    def __init__(
        self, registry: ModelRegistry, warn: Callable[[str], Any] = lambda message: None,
        results: ResultStore | None = None, allowed: Sequence[Path] | None = None,
    ) -> None:
        self.registry, self.warn, self.results, self.allowed = registry, warn, results or ResultStore(), allowed

    def photos(self, model_name: str, value: Any, limit: int) -> tuple[DemoModel, Photos]:
        """The model and the prepared photos of a gallery value (at most ``limit``); problems are warned."""
        m = self.registry.get(model_name)
        photos = read_photos(gallery_paths(value), m.preparation, limit, self.allowed)
        for message in shown_messages(photos.problems, photos.notes):
            self.warn(message)
        return m, photos

    def two_galleries(self, model_name: str, a: Any, b: Any) -> tuple[DemoModel, Photos, Photos]:
        """The model and the prepared photos of galleries A and B, on one budget
        (``demo.inputs.decode_budget``)."""
        with decode_budget():
            m, pa = self.photos(model_name, a, computations.MAX_GROUP)
            _, pb = self.photos(model_name, b, computations.MAX_GROUP)
        return m, pa, pb

    def pool(self, model_name: str, photos: Any) -> tuple[str, str, Any, str]:
        """Pool evidence: reconstruction sheet, pooled identity in fresh styles, variance chart, summary."""
        m, group = self.photos(model_name, photos, computations.MAX_GROUP)
        r = computations.pool_evidence(m, group)
        return self.results.save(r.sheet), self.results.save(r.fresh), r.chart, r.summary

    def interpolate(self, model_name: str, a: Any, b: Any, style_w: float, content_w: float) -> tuple[str, str]:
        """The image at the sliders' weights and the full interpolation grid."""
        m, pa, pb = self.two_galleries(model_name, a, b)
        image, grid = computations.interpolation_and_grid(m, pa, pb, style_w, content_w)
        return self.results.save(image), self.results.save(grid)

    def interpolate_image(self, model_name: str, a: Any, b: Any, style_w: float, content_w: float) -> str:
        """Only the image at the sliders' weights (what a slider release recomputes)."""
        m, pa, pb = self.two_galleries(model_name, a, b)
        return self.results.save(computations.interpolation(m, pa, pb, style_w, content_w))

    def swap(self, model_name: str, photos: Any, pooled: bool, labels: str | None) -> str:
        """The swap grid of up to MAX_SWAP photos, pooled by group labels or not."""
        m, group = self.photos(model_name, photos, computations.MAX_SWAP)
        return self.results.save(computations.swap_grid(m, group, bool(pooled), labels or ""))

    def generate(self, model_name: str, photos: Any, count: float, seed: float | None) -> str:
        """The group's content with ``count`` prior styles."""
        m, group = self.photos(model_name, photos, computations.MAX_GROUP)
        return self.results.save(computations.generation(m, group, int(count), int(seed or 0)))

    def about(self, model_name: str | None) -> str:
        """The About tab's description of the model."""
        return about.about(self.registry.models.get(model_name))

    def shortfall(self, model_name: str | None) -> str:
        """The line under the model picker on the goals the selected model misses (empty when none)."""
        return about.shortfall_note(self.registry.models.get(model_name))

    def figures(self, model_name: str | None) -> list[tuple[str, str]]:
        """The figures of the selected model's card, as (file, caption)."""
        return about.card_figures(self.registry.models.get(model_name))
