"""Hostile input: a corpus made here (never downloaded, never committed) of non-images with image names,
truncated and corrupt files, decompression bombs, enormous dimensions, animations, 16-bit, CMYK and LAB images,
corrupt EXIF, empty files and odd file names, given to every tab of the real app (through gradio_client) and to
the folder dataset loader; API payloads that name files on the server; checkpoints and data folders that hold
pickles. Each file gets a clear message or the same model input as a clean copy; the server keeps serving; no
file outside the uploads is read or served; no pickle is ever unpickled.
"""
from __future__ import annotations

import html
import io
import json
import logging
import os
import pickle
import re
import struct
import threading
import urllib.error
import urllib.request
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from demo.inputs.preparation import Preparation, prepare_file
from demo.models import load_registry
from demo.results.sheets import GAP
from mlvae import MLVAE, CheckpointError, ModelConfig, RunConfig, load_model, save_model
from mlvae.checkpoint.folder import WEIGHTS_NAME
from mlvae.config import DataConfig
from mlvae.data import load_splits
from mlvae.data.images import display_scale, prepare_image
from tests.demo_server import gallery, load, running_app

FACES, DIGITS = Preparation(64, 3, 0.8), Preparation(28, 1, 1.0, digits=True)
MODELS = {"faces": FACES, "mnist": DIGITS}  # the app's model names (shipped or tiny stand-ins)
TOLERANCE = 12  # mean absolute difference (of 255) from the clean copy: JPEG, GIF palettes, LAB round trips
GENERIC = "Something went wrong"  # the app's message for an unexpected exception: never acceptable here
READABLE = "not a readable image"
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # expected: the bombs


# ---- the corpus -------------------------------------------------------------------------------------------
@dataclass
class Case:
    """A hostile file: its bytes, and per consumer the refusal (a regex of the message) or the clean image whose
    preparation the file's must match."""

    data: bytes
    demo: str | Image.Image
    loader: str | Image.Image


class Unpickled:
    """Unpickling this creates the file ``path``: the marker that a pickle was loaded."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def photo(width: int = 160, height: int = 200, seed: int = 0) -> Image.Image:
    """A synthetic colour picture with gradients, texture and noise (photo-like for the codecs)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    rgb = np.stack([255 * x / width, 255 * y / height, 128 + 100 * np.sin(x / 9 + seed) * np.cos(y / 13)], axis=-1)
    return Image.fromarray(np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8), "RGB")


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **options)
    return buf.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(width: int, height: int, rows, bit_depth: int = 8, colour: int = 0, extra: bytes = b"") -> bytes:
    """A PNG written by hand: any declared size, scanlines from ``rows`` (bytes each), extra chunks."""
    deflate = zlib.compressobj(9)
    idat = b"".join(deflate.compress(b"\x00" + row) for row in rows) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + extra + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


def sideways_jpeg_with_corrupt_exif(image: Image.Image) -> bytes:
    """``image`` stored turned a quarter, with EXIF orientation 6 (turn it back to display) in an EXIF block
    whose first entry is corrupt: an ImageDescription text relabelled as the integer tag ImageWidth."""
    exif = Image.Exif()
    exif[0x010E] = "a description"  # ImageDescription, the first entry of the IFD
    exif[0x0112] = 6
    data = bytearray(encoded(image.transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif.tobytes()))
    first_tag = data.index(b"Exif\x00\x00") + 6 + 10  # after the TIFF header (8 bytes) and the entry count (2)
    data[first_tag + 1] = 0x00  # 0x010E -> 0x0100
    return bytes(data)


def build_corpus(marker: Path) -> dict[str, Case]:
    """Every hostile file by name."""
    clean = photo()
    jpeg, png = encoded(clean, "JPEG", quality=90), encoded(clean, "PNG")
    inverted = Image.eval(clean, lambda v: 255 - v)
    cases: dict[str, Case] = {}

    def refused(name: str, data: bytes, message: str, loader: str | Image.Image | None = None) -> None:
        cases[name] = Case(data, message, message if loader is None else loader)

    def accepted(name: str, data: bytes, expected: Image.Image) -> None:
        cases[name] = Case(data, expected, expected)

    # not images, with image names
    refused("notes.jpg", b"not an image, only text\n" * 40, READABLE)
    refused("page.png", b"<html><script>alert(1)</script></html>\n", READABLE)
    refused("drawing.png", b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"><rect/></svg>', READABLE)
    refused("payload.png", pickle.dumps(Unpickled(marker)), READABLE)
    # an EPS: PIL would hand it to Ghostscript; it must not even be identified
    refused("vector.png", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\nshowpage\n%%EOF\n",
            f"{READABLE} \\(cannot identify")
    refused("empty.jpg", b"", READABLE)
    refused("zero-size.png", raw_png(0, 0, []), READABLE)
    # truncated and corrupt
    refused("truncated.jpg", jpeg[: len(jpeg) * 2 // 5], f"{READABLE} \\(image file is truncated")
    refused("truncated.png", png[: len(png) // 2], f"{READABLE} \\(image file is truncated")
    corrupt_png = bytearray(png)
    corrupt_png[len(png) // 2 : len(png) // 2 + 16] = bytes(16)
    refused("corrupt.png", bytes(corrupt_png), READABLE)
    corrupt_jpeg = bytearray(jpeg)
    rng = np.random.default_rng(1)
    for i in rng.integers(len(jpeg) // 3, len(jpeg) - 10, 40):
        corrupt_jpeg[i] = int(rng.integers(0, 256))
    garbled = Image.open(io.BytesIO(bytes(corrupt_jpeg))).convert("RGB")  # what the damaged data decodes to
    accepted("corrupt.jpg", bytes(corrupt_jpeg), garbled)
    accepted("corrupt-exif.jpg", sideways_jpeg_with_corrupt_exif(clean), clean)  # turned upright all the same
    # decompression bombs and enormous dimensions
    refused("bomb.png", raw_png(100_000, 100_000, []), "too large to decode safely")  # 10 gigapixels declared
    refused("zlib-bomb.png", raw_png(12_000, 12_000, (bytes(12_000) for _ in range(12_000))),  # 144 MB in 140 kB
            "12000 x 12000 pixels is larger than the \\d+ megapixels allowed")
    text_bomb = png_chunk(b"zTXt", b"comment\x00\x00" + zlib.compress(bytes(64 * 2**20), 9))  # 64 MB of text
    refused("text-bomb.png", raw_png(8, 8, [bytes(8)] * 8, extra=text_bomb), f"{READABLE} .*too large")
    huge = bytearray(jpeg)
    sof = huge.index(b"\xff\xc0") + 5
    huge[sof : sof + 4] = struct.pack(">HH", 65_000, 65_000)
    refused("huge.jpg", bytes(huge), "too large to decode safely")
    grey = Image.new("L", (5000, 5001), 128)  # 25 MP: over the demo's limit, a fine photo for training
    refused("25-megapixels.png", raw_png(5000, 5001, (bytes([128]) * 5000 for _ in range(5001))),
            "5000 x 5001 pixels is larger than the 24 megapixels allowed", loader=grey)
    strip = clean.resize((60_000, 2))  # refused by the demo (at its longer side's scale: gigabytes), read by training
    refused("strip.png", encoded(strip, "PNG"), "60000 x 2 pixels is more elongated than the 20:1", loader=strip)
    # animations: the first frame
    accepted("animated.gif", encoded(clean, "GIF", save_all=True, append_images=[inverted, clean.rotate(90)],
                                     duration=100, loop=0), clean)
    accepted("phone.jpg", encoded(clean, "MPO", save_all=True, append_images=[inverted], quality=95), clean)
    # colour modes
    grey16 = np.asarray(clean.convert("L"), dtype=np.uint16) * 257
    accepted("grey16.png", encoded(Image.fromarray(grey16), "PNG"), clean.convert("L"))
    rgb16 = np.asarray(clean, dtype=">u2") * 257
    accepted("rgb16.png", raw_png(clean.width, clean.height, (row.tobytes() for row in rgb16), 16, 2), clean)
    accepted("cmyk.jpg", encoded(clean.convert("CMYK"), "JPEG", quality=95), clean)
    accepted("cmyk.tif", encoded(clean.convert("CMYK"), "TIFF"), clean)
    accepted("lab.tif", encoded(clean.convert("LAB"), "TIFF"), clean)
    grey_float = np.asarray(clean.convert("L"), dtype=np.float32) / 255  # values in [0, 1], as scientific TIFFs hold
    accepted("float.tif", encoded(Image.fromarray(grey_float, "F"), "TIFF"), clean.convert("L"))
    # odd but legal file names
    for name in ("..png", "...jpg", "a\\b.png", "фото 1.png"):
        accepted(name, png, clean)
    refused('<img src=x onerror="alert(1)">.jpg', b"text", READABLE)
    return cases


@pytest.fixture(scope="module")
def marker(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("marker") / "unpickled"


@pytest.fixture(scope="module")
def corpus(marker, tmp_path_factory) -> dict[str, tuple[Path, Case]]:
    folder = tmp_path_factory.mktemp("corpus")
    files = {}
    for name, case in build_corpus(marker).items():
        (folder / name).write_bytes(case.data)
        files[name] = (folder / name, case)
    return files


@pytest.fixture(scope="module")
def clean_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clean")
    paths = []
    for i in range(3):
        paths.append(folder / f"clean-{i}.png")
        photo(seed=i + 1).save(paths[-1])
    return paths


def expected_input(image: Image.Image, prep: Preparation, folder: Path) -> np.ndarray:
    """The model input (H, W, C) uint8 that the demo makes of a clean copy of ``image``."""
    path = folder / f"clean-{uuid.uuid4().hex}.png"
    image.save(path)
    return prepare_file(path, prep).permute(1, 2, 0).numpy()


def assert_close(got: np.ndarray, want: np.ndarray, what: str) -> None:
    assert got.shape == want.shape, f"{what}: shape {got.shape}, expected {want.shape}"
    diff = np.abs(got.astype(np.float64) - want.astype(np.float64)).mean()
    assert diff < TOLERANCE, f"{what}: mean difference {diff:.1f} from the clean copy's model input"


# ---- the app ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def app(cropping_model_args, tmp_path_factory):
    """The real app, started once for this module, with its own upload folder; yields (url, uploads, log).

    Its faces model centre-crops (the corpus tests decoding; the aligning path is tested in test_faces.py)."""
    folder = tmp_path_factory.mktemp("hostile-app")
    uploads, log = folder / "uploads", folder / "app.log"
    uploads.mkdir()
    try:
        with running_app(cropping_model_args, log, env={"GRADIO_TEMP_DIR": str(uploads)}) as url:
            yield url, uploads.resolve(), log
    except RuntimeError as exc:
        pytest.fail(str(exc))


def connect(url: str):
    """A gradio_client Client for the app on loopback (plain HTTP: no CA bundle loaded for every upload)."""
    from gradio_client import Client

    return Client(url, verbose=False, ssl_verify=False)


@pytest.fixture(scope="module")
def client(app):
    return connect(app[0])


def model_input(sheet_path: str, prep: Preparation, row: int = 0, col: int = 0) -> np.ndarray:
    """Tile (row, col) of a result sheet at the model's resolution (H, W, C)."""
    scale = display_scale(prep.size)
    step = (prep.size + GAP) * scale
    sheet = load(sheet_path)
    span = prep.size * scale
    tile = sheet[row * step : row * step + span : scale, col * step : col * step + span : scale]
    return tile[..., :prep.channels].astype(np.uint8)


def call(client, *args, api: str):
    """(result, None) or (None, message) of one request; an unexpected exception fails the test."""
    from gradio_client.exceptions import AppError

    try:
        return client.predict(*args, api_name=api), None
    except AppError as exc:
        return None, str(exc)


def tab_calls(model: str, files: list[str], good: list[str]) -> dict[str, tuple]:
    """Every tab's endpoint with ``files`` as its photos (interpolation: as A, then as B, with good photos)."""
    return {
        "/pool": (model, gallery(files)),
        "/interpolate": (model, gallery(files), gallery(good), 0.5, 0.5),
        "/interpolate_image": (model, gallery(good), gallery(files), 0.3, 0.7),
        "/swap": (model, gallery(files), True, ""),
        "/generate": (model, gallery(files), 3, 1),
    }


def test_every_tab_gives_each_hostile_file_a_message_or_the_clean_result(app, corpus, clean_files, tmp_path):
    good = [str(clean_files[0])]
    jobs = []
    for name, (path, _case) in corpus.items():
        for model in MODELS:
            tabs = tab_calls(model, [str(path)], good)
            if model == "mnist":  # the digits preparation (inversion, framing) differs: pool and swap cover it
                tabs = {api: tabs[api] for api in ("/pool", "/swap")}
            jobs += [(name, model, api, args) for api, args in tabs.items()]
    clients = threading.local()

    def run(job):  # a few clients at once, as several users would
        if not hasattr(clients, "client"):
            clients.client = connect(app[0])
        return call(clients.client, *job[3], api=job[2])

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(run, jobs))
    for (name, model, api, _), (result, message) in zip(jobs, outcomes, strict=True):
        case, prep, where = corpus[name][1], MODELS[model], f"{name!r} on {api} ({model})"
        if isinstance(case.demo, str):
            assert message is not None, f"{where}: should be refused with {case.demo!r}"
            assert GENERIC not in message, f"{where}: {message}"
            assert re.search(case.demo, html.unescape(message)), f"{where}: unclear message {message!r}"
            assert "<" not in message, f"{where}: markup from a file name must not reach the page: {message!r}"
            if re.fullmatch(r"[\w .-]+", name):  # (the upload keeps plain names; it rewrites markup characters)
                assert name in message, f"{where}: the message must name the file: {message!r}"
            continue
        assert message is None, f"{where}: refused ({message})"
        if api in ("/pool", "/swap"):  # their sheets show the input as the model sees it
            sheet = result[0] if api == "/pool" else result
            row, col = (0, 0) if api == "/pool" else (0, 1)  # swap: the column headers
            assert_close(model_input(sheet, prep, row, col), expected_input(case.demo, prep, tmp_path), where)


def test_the_server_keeps_serving_and_never_failed_unexpectedly(client, app, corpus, clean_files, tmp_path):
    many = [str(p) for p in clean_files] + [str(path) for path, _ in corpus.values()]
    sheet, _, _, summary = client.predict("faces", gallery(many), api_name="/pool")  # all at once, in one group
    usable = [p for p, c in corpus.values() if not isinstance(c.demo, str)]
    assert f"Pooling {len(usable) + len(clean_files)} photos" in summary
    first = model_input(sheet, FACES, 0, 0)
    assert_close(first, expected_input(Image.open(clean_files[0]), FACES, tmp_path), "a clean photo with the corpus")
    assert "request failed" not in app[2].read_text(errors="replace"), "an unexpected exception reached the app"


# ---- files outside the uploads ----------------------------------------------------------------------------
def raw_call(url: str, api: str, data: list) -> tuple[str, str]:
    """A request as any HTTP client can send it, bypassing gradio_client: (event, payload text)."""
    body = json.dumps({"data": data}).encode()
    request = urllib.request.Request(f"{url}gradio_api/call/{api}", data=body,
                                     headers={"Content-Type": "application/json"})
    event_id = json.load(urllib.request.urlopen(request, timeout=30))["event_id"]
    stream = urllib.request.urlopen(f"{url}gradio_api/call/{api}/{event_id}", timeout=60).read().decode()
    event = re.search(r"event: (\w+)", stream).group(1)
    return event, stream


def raw_upload(url: str, filename: str, data: bytes) -> tuple[int, str]:
    """A multipart upload with any file name: (HTTP status, body)."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
            "Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def file_data(path: str, meta: bool) -> dict:
    return {"path": path, **({"meta": {"_type": "gradio.FileData"}} if meta else {})}


def test_crafted_paths_in_api_payloads_are_refused_before_anything_reads_them(client, app, tmp_path):
    url, uploads, _ = app
    secret = tmp_path / "secret.png"  # a readable picture outside the uploads: it must never show in a result
    Image.new("RGB", (64, 64), (255, 0, 255)).save(secret)
    crafted = ["/etc/passwd", str(secret), f"{uploads}/../{secret.relative_to('/')}",
               f"{uploads}/{'../' * 12}etc/passwd", "app.py", "../README.md", f"{uploads}/x\x00.png"]
    for path in crafted:
        # without Gradio's file marker, the path reaches the app, which refuses it by location
        result, message = call(client, "faces", [{"image": file_data(path, meta=False), "caption": None}],
                               False, "", api="/swap")
        assert result is None and "not a file uploaded to this demo" in message, f"{path!r}: {result or message}"
        # with the marker, Gradio refuses it first
        event, stream = raw_call(url, "swap", ["faces", [{"image": file_data(path, meta=True), "caption": None}],
                                               False, ""])
        assert event == "error", f"{path!r}: {stream[:300]}"
        assert GENERIC not in stream, f"{path!r}: {stream[:300]}"
    for path in [str(secret), "/etc/passwd", "app.py", f"{uploads}/../{secret.name}"]:  # nor served as files
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}gradio_api/file={path}", timeout=10)
        assert refused.value.code in (403, 404)


def test_upload_names_with_path_separators_stay_in_the_upload_folder(client, app, tmp_path):
    url, uploads, _ = app
    data = encoded(photo(seed=5), "PNG")
    escape = tmp_path / f"escaped-{uuid.uuid4().hex}.png"
    for name in [f"{'../' * 12}{str(escape).lstrip('/')}", "sub/dir/photo.png", "..\\..\\photo.png", "/etc/x.png"]:
        status, body = raw_upload(url, name, data)
        assert status == 200, f"{name!r}: {status} {body}"
        (stored,) = json.loads(body)
        assert Path(os.path.realpath(stored)).is_relative_to(uploads), f"{name!r} was stored at {stored}"
        result, message = call(client, "faces", [{"image": file_data(stored, meta=True), "caption": None}],
                               False, "", api="/swap")
        assert message is None, message
        assert_close(model_input(result, FACES, 0, 1), expected_input(photo(seed=5), FACES, tmp_path), name)
    assert not escape.exists()
    status, body = raw_upload(url, "..", data)
    assert status == 400 and "Invalid file name" in body


def test_other_hostile_values_get_clear_messages(client, clean_files):
    good = gallery(clean_files[:1])
    cases = [
        (("../../etc/passwd",), "/about", "not in the list of choices"),
        (("faces", good, 10**9, 0), "/generate", "greater than maximum value 32"),
        (("faces", good, 3, 10**30), "/generate", "greater than maximum value"),
        (("faces", good, True, "a " * 10_000), "/swap", "10000 group labels for 1 photos"),
        (("faces", good, good, 5.0, 0.5), "/interpolate_image", "greater than maximum value 1"),
    ]
    for args, api, words in cases:
        result, message = call(client, *args, api=api)
        assert message is not None and words in message and GENERIC not in message, f"{api} {args[2:]}: {message}"


# ---- the folder dataset loader ----------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [3, 1])
def test_folder_loader_skips_what_it_cannot_read_and_prepares_the_rest(corpus, clean_files, tmp_path, caplog, channels):
    size, crop = (64, 0.8) if channels == 3 else (28, 1.0)
    root = tmp_path / "data"
    (root / "alice").mkdir(parents=True)
    (root / "bob").mkdir()
    (root / "broken").mkdir()
    for name, (_path, case) in corpus.items():
        (root / "alice" / name).write_bytes(case.data)
        if isinstance(case.loader, str):
            (root / "broken" / name).write_bytes(case.data)
    for path in clean_files[:2]:
        (root / "bob" / path.name).write_bytes(path.read_bytes())
    with caplog.at_level(logging.WARNING, logger="mlvae.data.loading"):
        splits = load_splits(DataConfig(dataset="folder", data_dir=str(root), image_size=size, image_channels=channels,
                                        crop_fraction=crop, val_fraction=0.0, test_fraction=0.0))
    train = splits.train
    assert train.group_names == ["alice", "bob", "broken"]
    alice = sorted(corpus)  # the loader reads a group's files in name order
    kept = [name for name in alice if not isinstance(corpus[name][1].loader, str)]
    got = train.images[train.members(0)]
    assert len(got) == len(kept) and len(train.members(1)) == 2 and len(train.members(2)) == 0
    for name, image in zip(kept, got, strict=True):
        want = prepare_image(corpus[name][1].loader, size, channels, crop)
        assert_close(image.permute(1, 2, 0).numpy(), want.permute(1, 2, 0).numpy(), f"loader: {name!r}")
    log = caplog.text
    for name in alice:
        case = corpus[name][1]
        if isinstance(case.loader, str):
            line = next((line for line in log.splitlines() if f"skipping {name}:" in line), None)
            assert line is not None, f"no message names {name!r}"
            assert re.search(case.loader, line), line


# ---- pickles ----------------------------------------------------------------------------------------------
def checkpoint_with(folder: Path, marker: Path, weights_are_pickle: bool, extra_pickles: bool) -> Path:
    config = RunConfig(model=ModelConfig(hidden_dim=16, latent_dim=3))
    torch.manual_seed(0)
    save_model(folder, MLVAE(config.model), config)
    if weights_are_pickle:
        (folder / WEIGHTS_NAME).write_bytes(pickle.dumps(Unpickled(marker)))
    if extra_pickles:
        for name in ("pytorch_model.bin", "model.pt", "training_args.bin", "optimizer.pt"):
            (folder / name).write_bytes(pickle.dumps(Unpickled(marker)))
    return folder


def test_checkpoints_holding_pickles_never_unpickle_them(tmp_path, marker):
    disguised = checkpoint_with(tmp_path / "disguised", marker, weights_are_pickle=True, extra_pickles=True)
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_model(disguised)
    only_pickle = checkpoint_with(tmp_path / "only-pickle", marker, weights_are_pickle=False, extra_pickles=True)
    (only_pickle / WEIGHTS_NAME).unlink()
    with pytest.raises(CheckpointError, match=f"{WEIGHTS_NAME} is missing"):
        load_model(only_pickle)
    beside = checkpoint_with(tmp_path / "beside", marker, weights_are_pickle=False, extra_pickles=True)
    model, _ = load_model(beside)  # the safetensors weights; the pickles beside them untouched
    saved = load_file(str(beside / WEIGHTS_NAME))
    assert all(torch.equal(value, saved[key]) for key, value in model.state_dict().items())
    registry = load_registry([str(disguised), str(only_pickle), str(beside)], include_shipped=False)
    assert list(registry.models) == ["beside"] and len(registry.problems) == 2
    assert "not a safetensors file" in registry.problems[0] and "is missing" in registry.problems[1]
    assert not marker.exists(), "a pickle was unpickled"


def test_a_hub_snapshot_holding_a_pickle_loads_from_safetensors_only(tmp_path, marker, monkeypatch):
    from huggingface_hub import constants

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "hub" / "models--someone--tiny-mlvae"
    checkpoint_with(repo / "snapshots" / commit, marker, weights_are_pickle=False, extra_pickles=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))  # a local Hub cache, read offline
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    model, config = load_model("someone/tiny-mlvae")
    assert config.model.latent_dim == 3
    (repo / "snapshots" / commit / WEIGHTS_NAME).write_bytes(pickle.dumps(Unpickled(marker)))
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_model("someone/tiny-mlvae")
    assert not marker.exists(), "a pickle was unpickled"


def test_mnist_folder_is_read_from_raw_files_never_from_pickled_copies(shared_data, tmp_path, marker):
    root = tmp_path / "mnist"
    (root / "MNIST" / "raw").mkdir(parents=True)
    (root / "MNIST" / "processed").mkdir()
    for raw in (shared_data / "mnist" / "MNIST" / "raw").glob("*-ubyte"):
        (root / "MNIST" / "raw" / raw.name).symlink_to(raw)
    for name in ("training.pt", "test.pt"):  # torchvision's old cache format: a pickle it would load first
        (root / "MNIST" / "processed" / name).write_bytes(pickle.dumps(Unpickled(marker)))
    splits = load_splits(DataConfig(dataset="mnist", data_dir=str(root)))
    assert len(splits.train) == 50_000 and len(splits.val) == 10_000 and len(splits.test) == 10_000
    assert not marker.exists(), "a pickle was unpickled"


# ---- limits -----------------------------------------------------------------------------------------------
def test_one_queue_limits_the_model_work_of_the_whole_app():
    from demo.app import CONCURRENCY, QUEUE_SIZE, build_app
    from demo.models import ModelRegistry

    app = build_app(ModelRegistry())
    cheap = {"about", "shortfall", "fill_examples", "add_drawing", "switch_inputs", "clear_example_labels",
             "show_card_note", "open_card", "own_photos", "own_swap_photos", "new_seed",
             "live_reset_all"}  # no model runs in these
    # the webcam's live streams: one per session, LIVE_STREAMS at once, in their own queue; each frame takes a slot
    # of COMPUTING while it computes (demo.tabs.live)
    from demo.tabs.live import LIVE_STREAMS

    live = [fn for fn in app.fns.values() if fn.name == "live_frame"]
    assert LIVE_STREAMS > 1 and live and all(fn.concurrency_id == "live" and fn.concurrency_limit == LIVE_STREAMS
                                             for fn in live)
    heavy = [fn for fn in app.fns.values() if fn.name not in cheap and fn.name != "live_frame"]
    assert {fn.name for fn in heavy} >= {"pool", "interpolate", "interpolate_image", "swap", "generate"}
    assert {fn.concurrency_id for fn in heavy} == {"model"}, "a listener with its own queue adds to CONCURRENCY"
    assert app._queue.default_concurrency_limit == CONCURRENCY and app._queue.max_size == QUEUE_SIZE
