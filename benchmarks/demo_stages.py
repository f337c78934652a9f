"""Where a demo request's time goes: the swap grid split into its stages, server side and over the wire.

Server side (in this process, as the handler runs them): prepare (read and prepare the uploads, cold: decoded
anew), encode (the encoder on the inputs), decode (the decoder on every style x content pair), draw (lay out the
sheet and its axis labels) and encode PNG (write the file Gradio serves). Over the wire (raw HTTP against the
running app, no gradio_client): upload the files, the call through Gradio's queue (preprocess, the handler,
postprocess, the event stream) and the result's download. Used by ``demo_latency.py``.
"""
from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from demo.computing.computations import swap_grid
from demo.inputs.photos import read_photos
from demo.inputs.prepared_cache import clear_cache
from demo.models import DemoModel
from demo.results.axis_labels import swap_axes
from demo.results.png_store import ResultStore
from demo.results.sheets import grid_sheet
from mlvae import latent

STAGES = ("prepare", "encode", "decode", "draw", "encode PNG")


def _median_ms(fn: Callable[[], object], repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def swap_stages(m: DemoModel, paths: list[str], repeats: int, out: str) -> dict[str, float]:
    """Median ms of each stage of the swap grid of ``paths`` (every style with every content), and the whole."""
    prep = m.preparation
    photos = read_photos(paths, prep)
    x = photos.images
    enc = latent.encode(m.model, x)
    style, content = enc.style.mean, enc.content.mean
    rows, cols = style.shape[0], content.shape[0]
    grid = latent.decode(m.model, content.repeat(rows, 1), style.repeat_interleave(cols, 0))
    grid = grid.view(rows, cols, *grid.shape[1:])
    sheet = swap_axes(grid_sheet(grid, row_headers=x, col_headers=x), x.shape[-1])
    store = ResultStore(out)

    def prepare() -> None:
        clear_cache()
        read_photos(paths, prep)

    stages = {
        "prepare": prepare,
        "encode": lambda: latent.encode(m.model, x),
        "decode": lambda: latent.decode(m.model, content.repeat(rows, 1), style.repeat_interleave(cols, 0)),
        "draw": lambda: swap_axes(grid_sheet(grid, row_headers=x, col_headers=x), x.shape[-1]),
        "encode PNG": lambda: store.save(sheet),
    }
    with torch.inference_mode():
        split = {name: _median_ms(fn, repeats) for name, fn in stages.items()}

    def whole() -> None:
        clear_cache()
        store.save(swap_grid(m, read_photos(paths, prep), False))

    split["whole (cold)"] = _median_ms(whole, repeats)
    return split


def wire_stages(url: str, model: str, paths: list[str], repeats: int) -> dict[str, float]:
    """Median ms of a swap request's parts over raw HTTP: the uploads (one request per file, as gradio_client
    sends them), the call through the queue, the download of the result."""
    import httpx

    base = url.rstrip("/")
    client = httpx.Client(timeout=60)
    blobs = [(Path(p).name, Path(p).read_bytes()) for p in paths]

    def upload() -> list[str]:
        return [client.post(f"{base}/gradio_api/upload", files={"files": (name, data, "image/png")}).json()[0]
                for name, data in blobs]

    uploaded = upload()
    gallery = [{"image": {"path": p, "meta": {"_type": "gradio.FileData"}}, "caption": None} for p in uploaded]

    def call() -> str:
        event = client.post(f"{base}/gradio_api/call/swap", json={"data": [model, gallery, False, ""]}).json()
        with client.stream("GET", f"{base}/gradio_api/call/swap/{event['event_id']}") as stream:
            body = "".join(stream.iter_text())
        return json.loads(body.split("data:", 1)[1].strip().splitlines()[0])[0]["url"]

    result_url = call()
    split = {
        f"upload {len(paths)} files": _median_ms(upload, repeats),
        "call (queue + handler)": _median_ms(call, repeats),
        "download the result": _median_ms(lambda: client.get(result_url).content, repeats),
    }
    event_only = lambda: client.post(f"{base}/gradio_api/call/about", json={"data": [model]})  # noqa: E731
    split["(the about call, no model: Gradio's own floor)"] = _median_ms(
        lambda: _drain(client, base, event_only().json()["event_id"]), repeats)
    return split


def _drain(client, base: str, event_id: str) -> None:
    with client.stream("GET", f"{base}/gradio_api/call/about/{event_id}") as stream:
        for _ in stream.iter_text():
            pass
