"""Live pooling from the webcam: each streamed frame with a face is aligned and encoded, and its content evidence
joins a running product of Normals kept in the session's state (``mlvae.latent.pool_into``). A frame whose style
code lies within ``NEAR_DUPLICATE`` of a frame already pooled (the same pose and light) adds nothing new and is
skipped, so that a still head does not count as many independent photos.

The model math is in ``mlvae.latent``; this module keeps the session's state and lays the results out.
"""
from __future__ import annotations

import base64
import contextlib
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from PIL import Image

from mlvae import DataError, latent
from mlvae.model.posterior import DiagonalNormal

from ..inputs.confinement import is_inside
from ..inputs.preparation import MAX_PHOTO_BYTES, Preparation, open_photo, prepare_opened
from ..models import ModelRegistry
from ..results.png_store import ResultStore
from ..results.sheets import strip_sheet

# RMS style distance per dimension under which a frame repeats a pooled one. Measured on the shipped faces model with
# camera-like 640 x 480 frames (python -m benchmarks.live_gate: a photo with sensor noise and JPEG, then the same one
# frame later, shifted 3 px): the same view again is within 0.26 for 95% of photos (an alignment jump: up to 1.1), a
# photo's nearest other photo of the same person 0.79 or more apart (CelebA, 12 people x 8; LFW, 10 x 8: 1.13 or
# more; medians 2.3 and 2.4). At 0.65: 95-98% of repeats skipped, every other photo pooled (the old gate, 1.2,
# skipped about 5% of the other photos: one person's 8 photos pooled as fewer)
NEAR_DUPLICATE = 0.65
STYLES = 4  # the pooled identity is shown with this many fixed styles from the prior
STYLE_SEED = 0  # ... always the same ones, so that only the identity changes as frames are pooled
RECENT = 6  # the last pooled frames shown, as the model sees them
MAX_POOLED = 500  # frames pooled per session at most (the style codes kept for the duplicate check are bounded)
MAX_FRAME_PIXELS = 1920 * 1080  # a frame larger than this is refused before decoding (a webcam sends 640 x 480)
# a frame's JPEG is decoded reduced (by 2, 4 or 8) while its shorter side stays this long: a face before a webcam
# fills much of the frame, so a 1280 x 720 frame is searched at 640 x 360, four times fewer pixels to decode and search
FRAME_MIN_SIDE = 360
CHART_POINTS = 30  # the live chart shows at most this many pooled frames, spread over all (whole-number ticks)
MORE_VIEWS = ("To pool more, show a new view: turn or tilt your head, move nearer or further, change the light or "
              "your expression; a frame like one already pooled is skipped.")


@dataclass
class LiveState:
    """One session's live pooling: the model it belongs to, the pooled content, the style codes of the frames
    pooled, the last frames pooled, the variance after each, and the counts of frames seen and pooled."""

    model: str | None = None
    content: DiagonalNormal | None = None
    styles: torch.Tensor = field(default_factory=lambda: torch.zeros(0, 0))
    recent: list[torch.Tensor] = field(default_factory=list)  # uint8 (C, H, W): a quarter of float's bytes
    variances: list[float] = field(default_factory=list)
    seen: int = 0
    last: str = ""  # what happened to the last frame

    @property
    def pooled(self) -> int:
        """Frames pooled so far."""
        return len(self.variances)


@dataclass
class LiveView:
    """What the page shows: the pooled identity, the last frames pooled, the variance chart and a status line."""

    identity: str | None
    recent: str | None
    chart: pd.DataFrame
    status: str


def status_line(state: LiveState) -> str:
    """The counts, the variance and what happened to the last frame."""
    if state.seen == 0:
        return "Live pooling: start the camera; each new view of your face is pooled as it arrives."
    variance = f" Mean content variance {state.variances[-1]:.3g}." if state.variances else ""
    return f"**{state.seen} frames seen, {state.pooled} pooled.**{variance} Last frame: {state.last}. {MORE_VIEWS}"


def chart_of(state: LiveState) -> pd.DataFrame:
    """The variance after pooled frames (the Pool tab chart's columns): at most CHART_POINTS of them, the first and
    the last included, their numbers as text (whole-number ticks)."""
    count = state.pooled
    shown = sorted({round(i * (count - 1) / (CHART_POINTS - 1)) for i in range(CHART_POINTS)}) \
        if count > CHART_POINTS else list(range(count))
    return pd.DataFrame({"photos": [str(i + 1) for i in shown], "variance": [state.variances[i] for i in shown]})


def read_frame(value: Any, allowed: Sequence[Path], prep: Preparation, frames: Path | None = None) -> Image.Image:
    """A streamed frame decoded within the bounds an uploaded photo gets (file size, aspect ratio, and no larger than
    a webcam frame): the page's frame as its data URL (``demo.gradio_internals.streamed_frames``), or a file in the
    upload folders (an API client's); DataError when it is neither or breaks a bound, its message naming the problem
    (not the server's name for the file). A frame file inside ``frames`` (Gradio's own folder) is deleted once
    read."""
    if isinstance(value, str) and value.startswith("data:"):
        with tempfile.NamedTemporaryFile(prefix="mlvae-frame-", suffix=".img") as file:
            file.write(frame_bytes(value))
            file.flush()
            return read_frame(file.name, [Path(file.name).parent], prep)
    if not isinstance(value, str) or not is_inside(value, allowed):
        raise DataError("not a webcam frame sent to this demo")
    try:
        return open_photo(Path(value), prep, max_pixels=MAX_FRAME_PIXELS, min_side=FRAME_MIN_SIDE).convert("RGB")
    except DataError as exc:
        raise DataError(str(exc).removeprefix(f"{Path(value).name}: ")) from exc
    finally:
        if frames is not None and is_inside(value, [frames]):
            forget_frame(Path(value).resolve(), frames.resolve())


def frame_bytes(url: str) -> bytes:
    """The image file a frame's data URL holds; DataError when it is not a JPEG or PNG in base64 or is too large."""
    head, _, data = url.partition(",")
    if head not in ("data:image/jpeg;base64", "data:image/png;base64"):
        raise DataError("a webcam frame must be a JPEG or PNG image (a data URL)")
    if len(data) > 4 * MAX_PHOTO_BYTES // 3 + 4:
        raise DataError(f"the frame is over the {MAX_PHOTO_BYTES >> 20} MB a photo may be")
    try:
        return base64.b64decode(data, validate=True)
    except ValueError:
        raise DataError("the frame is not valid base64") from None


def forget_frame(path: Path, frames: Path) -> None:
    """Delete a frame's file, and its folder when that is empty and inside ``frames`` (Gradio's folder of the file)."""
    with contextlib.suppress(OSError):
        path.unlink()
        if path.parent != frames:
            path.parent.rmdir()


class LivePooling:
    """Streamed frames in, the session's state and what the page shows out."""

    def __init__(self, registry: ModelRegistry, results: ResultStore, allowed: Sequence[Path],
                 frames: Path | None = None) -> None:
        """Frames are read from ``allowed`` folders; those in ``frames`` are deleted once read (``read_frame``)."""
        self.registry, self.results, self.allowed, self.frames = registry, results, allowed, frames

    def frame(self, model_name: str, frame: Any, state: LiveState | None) -> tuple[LiveState, LiveView | None]:
        """Pool one frame (the path of its file) into ``state`` (a new state for another model); the view, or None
        when there was no frame."""
        m = self.registry.get(model_name)
        state = state if isinstance(state, LiveState) and state.model == model_name else LiveState(model_name)
        if frame is None:
            return state, None
        if not m.kind.live_pooling:
            raise DataError("live pooling is for faces: pick the faces model")
        state = replace(state, seen=state.seen + 1)
        if state.pooled >= MAX_POOLED:
            state = replace(state, last=f"not pooled: {MAX_POOLED} frames is the most one session pools; reset")
            return state, self.view(m, state, changed=False)
        try:
            x, _ = prepare_opened(read_frame(frame, self.allowed, m.preparation, self.frames), m.preparation, "frame")
        except DataError as exc:
            reason = "no face found" if "face" in str(exc) else str(exc)
            state = replace(state, last=f"not pooled, {reason}")
            return state, self.view(m, state, changed=False)
        encoding = latent.encode(m.model, x.unsqueeze(0))
        style = encoding.style.mean
        distance = latent.nearest_distance(style, state.styles.reshape(-1, style.shape[1])).item()
        if distance < NEAR_DUPLICATE:
            state = replace(state, last=f"skipped, like a frame already pooled (style {distance:.2f} from it, "
                                        f"under {NEAR_DUPLICATE:g})")
            return state, self.view(m, state, changed=False)
        content = latent.pool_into(state.content, encoding.content)
        state = replace(
            state, content=content, styles=torch.cat([state.styles.reshape(-1, style.shape[1]), style]),
            recent=(state.recent + [(x * 255).round().to(torch.uint8)])[-RECENT:],
            variances=state.variances + [content.variance.mean().item()],
            last="pooled",
        )
        return state, self.view(m, state, changed=True)

    def view(self, m: Any, state: LiveState, changed: bool) -> LiveView:
        """The page's outputs; the images are decoded and saved only when the pool ``changed``."""
        identity = recent = None
        if changed and state.content is not None:
            identity = self.results.save(strip_sheet(latent.generate_from(m.model, state.content, STYLES,
                                                                          STYLE_SEED), STYLES))
            recent = self.results.save(strip_sheet(torch.stack(state.recent).float() / 255, RECENT))
        return LiveView(identity, recent, chart_of(state), status_line(state))
