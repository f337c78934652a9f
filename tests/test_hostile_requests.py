"""Hostile requests against the real app (the second round of the hostile-input corpus): drawing-pad values
that are not the pad's drawings, progressive JPEG bombs, one upload named many ways, join-then-cancel floods,
oversized and over-long bodies, non-finite numbers, values of the wrong shape, file entries that are URLs.

Every attack is measured on the server process: its peak RSS above what it held before (the kernel's high-water
mark, reset for the case), the time to the answer, and the slowest page request made while it was in flight;
each must stay within the limits SECURITY.md states (``EXTRA_RSS_MB``, ``REQUEST_S``, ``PAGE_S``).
"""
from __future__ import annotations

import base64
import functools
import io
import json
import os
import re
import stat
import struct
import threading
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from benchmarks.demo_floods import page_times
from benchmarks.session_cost import stream_outcome
from tests.demo_server import running_app

EXTRA_RSS_MB = 1024  # no single request may take the server more than this above what it held
REQUEST_S = 10.0  # nor compute for longer
PAGE_S = 1.0  # and a page request is answered within this while an attack is in flight
GENERIC = "Something went wrong"
pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


# ---- the server and its measurements ----------------------------------------------------------------------
@dataclass
class Server:
    url: str
    pid: int
    log: Path

    def fn_index(self, test: Callable[[dict, list[str]], bool]) -> int:
        """The index of the first event whose config and input component types pass ``test``."""
        config = json.load(urllib.request.urlopen(f"{self.url}config", timeout=10))
        types = {c["id"]: c["type"] for c in config["components"]}
        return next(i for i, d in enumerate(config["dependencies"]) if test(d, [types[x] for x in d["inputs"]]))


def listening_pid(port: int) -> int:
    """The process that listens on a loopback TCP port (found through /proc: the app runs as a subprocess)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # 0A: LISTEN
            inodes.add(fields[9])
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if any(os.readlink(fd).strip("socket:[]") in inodes for fd in (proc / "fd").iterdir()):
                    return int(proc.name)
            except OSError:
                continue
    raise RuntimeError(f"no process listens on port {port}")


@pytest.fixture(scope="module")
def server(cropping_model_args, tmp_path_factory) -> Iterator[Server]:
    yield from serving(cropping_model_args, tmp_path_factory)


def serving(cropping_model_args, tmp_path_factory, env: dict[str, str] | None = None) -> Iterator[Server]:
    """The real app on a free port (``env``: more variables), warmed up and measured from its listening process (a
    module's fixture); its upload folder is ``uploads/`` beside its ``log``."""
    folder = tmp_path_factory.mktemp("hostile-requests")
    log = folder / "app.log"
    (folder / "uploads").mkdir()
    try:
        with running_app(cropping_model_args, log, env={"GRADIO_TEMP_DIR": str(folder / "uploads"), **(env or {})}) \
                as url:
            for _ in range(3):  # warm: the first page requests build the page's config
                urllib.request.urlopen(url, timeout=30).read()
            server = Server(url, listening_pid(int(url.rsplit(":", 1)[1].strip("/"))), log)
            # and the first event of a fresh server holds up its event loop for ~1 s (Gradio's lazy set-up),
            # attack or not: the measured cases start from a server that has answered one
            assert call(server, "about", ["mnist"])[1] is None
            yield server
    except RuntimeError as exc:
        pytest.fail(str(exc))


def memory_mb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak since the last reset) of a process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+)", status).group(1)) // 1024 for key in ("VmRSS", "VmHWM")}


@dataclass
class Measured:
    result: Any
    seconds: float
    extra_rss_mb: int
    slowest_page_s: float

    def within_limits(self, what: str) -> None:
        print(f"\n{what}: {self.seconds:.2f} s, +{self.extra_rss_mb} MB peak RSS, "
              f"slowest page {self.slowest_page_s:.2f} s")
        assert self.extra_rss_mb <= EXTRA_RSS_MB, f"{what}: the server took {self.extra_rss_mb} MB more"
        assert self.seconds <= REQUEST_S, f"{what}: {self.seconds:.1f} s"
        assert self.slowest_page_s <= PAGE_S, f"{what}: a page request took {self.slowest_page_s:.1f} s meanwhile"


def running_threads(pid: int) -> int:
    """How many of a process's threads are running or ready to run (state R) at this instant."""
    count = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            count += (task / "stat").read_text().rsplit(")", 1)[1].split()[0] == "R"
        except OSError:  # the thread ended meanwhile
            pass
    return count


def most_running_threads(pid: int, until: threading.Event) -> list[int]:
    """Sample ``running_threads`` every 5 ms until ``until`` is set; a one-item list, filled at the end."""
    peak = [0]

    def sample() -> None:
        while not until.wait(0.005):
            peak[0] = max(peak[0], running_threads(pid))

    threading.Thread(target=sample, daemon=True).start()
    return peak


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_idle(pid: int, quiet_s: float = 0.5, timeout_s: float = 30) -> None:
    """Return once the process has used under half a core for ``quiet_s``: work left behind (a decode keeps a
    core busy) has ended; the page probes of ``measure`` use less."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(quiet_s)
        if cpu_seconds(pid) - before < 0.5 * quiet_s:
            return


def measure(server: Server, attack: Callable[[], Any]) -> Measured:
    """Run ``attack`` while timing page requests; the server's peak RSS over the case above its RSS before."""
    Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset the high-water mark (VmHWM) to the RSS now
    before = memory_mb(server.pid)["VmRSS"]
    result, pages, seconds = page_times(server.url, attack)
    return Measured(result, seconds, memory_mb(server.pid)["VmHWM"] - before, max(pages))


# ---- raw requests, as any HTTP client can send them --------------------------------------------------------
def post(url: str, body: bytes, content_type: str = "application/json",
         headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type, **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def upload(server: Server, name: str, data: bytes) -> str:
    """Upload one file; its path on the server."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, text = post(f"{server.url}gradio_api/upload", body, f"multipart/form-data; boundary={boundary}")
    assert status == 200, text
    return json.loads(text)[0]


def file_data(path: str, meta: bool = True) -> dict:
    return {"path": path, "orig_name": Path(path).name, **({"meta": {"_type": "gradio.FileData"}} if meta else {})}


def photos(paths: list[str], meta: bool = True) -> list[dict]:
    return [{"image": file_data(p, meta), "caption": None} for p in paths]


def join(server: Server, fn_index: int, data: list, session: str) -> tuple[int, str]:
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    return post(f"{server.url}gradio_api/queue/join", body)


def outcome(server: Server, session: str) -> dict:
    """The last message of a session's event stream (process_completed: success, output or error)."""
    return stream_outcome(server.url, session, timeout=60)


def run_event(server: Server, fn_index: int, data: list) -> tuple[Any, str | None]:
    """(output data, None) or (None, error message) of one event sent through the queue, in a new session."""
    return event_in_session(server, fn_index, data, uuid.uuid4().hex)


def event_in_session(server: Server, fn_index: int, data: list, session: str) -> tuple[Any, str | None]:
    """(output data, None) or (None, error message) of one event, in the session ``session``."""
    status, text = join(server, fn_index, data, session)
    if status != 200:
        return None, json.loads(text).get("detail", text)
    message = outcome(server, session)
    if message.get("success"):
        return message["output"]["data"], None
    return None, str(message.get("output", {}).get("error"))


def call(server: Server, api: str, data: list) -> tuple[Any, str | None]:
    """(output, None) or (None, error message) through the REST route /gradio_api/call/<api>."""
    status, text = post(f"{server.url}gradio_api/call/{api}", json.dumps({"data": data}).encode())
    if status != 200:
        return None, json.loads(text).get("detail", text)
    event_id = json.loads(text)["event_id"]
    stream = urllib.request.urlopen(f"{server.url}gradio_api/call/{api}/{event_id}", timeout=60).read().decode()
    event, payload = re.search(r"event: (\w+)\ndata: (.*)", stream).groups()
    if event == "complete":
        return json.loads(payload), None
    return None, (json.loads(payload) or {}).get("error") if payload != "null" else "null"


def assert_clear(message: str | None, words: str, what: str) -> None:
    """A refusal that names the problem, with no server path, object address or generic text."""
    assert message is not None, f"{what}: accepted"
    assert re.search(words, message), f"{what}: unclear message {message!r}"
    assert GENERIC not in message and "object at 0x" not in message, f"{what}: {message!r}"
    assert os.getcwd() not in message and "/tmp/" not in message, f"{what}: a server path in {message!r}"


# ---- generated hostile files ------------------------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def blank_png(width: int, height: int, colour: int = 0, channels: int = 1) -> bytes:
    """A PNG of zeros at any size, compressed row by row (15000 x 15000 greyscale: 219 kB)."""
    deflate, row = zlib.compressobj(9), bytes(width * channels + 1)
    idat = b"".join(deflate.compress(row) for _ in range(height)) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def progressive_bomb(side: int = 15400) -> bytes:
    """A 764-byte progressive CMYK JPEG declaring ``side`` x ``side``: libjpeg buffers every coefficient
    (side^2 x 4 x 2 bytes, 1.9 GB), whatever the reduced size it is decoded at (1925 x 1925 here)."""
    buf = io.BytesIO()
    Image.new("CMYK", (64, 64), (10, 20, 30, 40)).save(buf, "JPEG", progressive=True, quality=90)
    data = bytearray(buf.getvalue())
    sof = data.index(b"\xff\xc2") + 5
    data[sof : sof + 4] = struct.pack(">HH", side, side)
    return bytes(data)


@functools.cache
def heavy_png(seed: int = 0) -> bytes:
    """A legitimate photo at the demo's size limit: 4800 x 5000 RGB (24 megapixels) that decodes in ~0.3 s;
    each ``seed`` gives other bytes (the server remembers prepared photos by content, whatever their name)."""
    row = ((np.arange(4800 * 3, dtype=np.uint32) * 7 + seed) % 251).astype(np.uint8).tobytes()
    deflate = zlib.compressobj(1)
    # every row after the first is filtered "up" (as its own difference from the row above): zeros, quick to write
    idat = deflate.compress(b"\x00" + row) + b"".join(deflate.compress(b"\x02" + bytes(len(row))) for _ in range(4999))
    idat += deflate.flush()
    header = struct.pack(">IIBBBBB", 4800, 5000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def small_png(seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (96, 80, 3), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 9 9\nshowpage\n%%EOF\n"


# ---- 1. the drawing pad -----------------------------------------------------------------------------------
def pad_event(server: Server) -> int:
    """The pad's Add event: its inputs are the pad (a canvas in a gr.HTML, whose value is a PNG data URL) and the
    gallery."""
    return server.fn_index(lambda d, types: "html" in types)


def data_url(data: bytes) -> str:
    """Image bytes as the pad sends them."""
    return "data:image/png;base64," + base64.b64encode(data).decode()


def declared_png(width: int, height: int) -> bytes:
    """A PNG of a few dozen bytes whose header declares ``width`` x ``height``."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(bytes(64)))
            + png_chunk(b"IEND", b""))


def test_drawing_pad_values_are_checked_like_uploads(server):
    add = pad_event(server)
    own = upload(server, "pad.png", small_png())  # a file this client uploaded, named as the pad's value
    cases = {
        "a drawing declaring 15000 x 15000": (data_url(declared_png(15000, 15000)), r"larger than the 4 megapixels"),
        "an EPS drawing": (data_url(EPS), r"the drawing: not a readable image"),
        "an uploaded file's path": (own, r"the drawing: not a PNG data URL"),
        "a file entry": (file_data(own), r"input 1 takes no files"),  # refused by the request's checks
        "the old editor's value": ({"background": None, "layers": [], "composite": file_data(own), "id": None},
                                   r"input 1 takes no files"),
        "a dict": ({"composite": data_url(small_png())}, r"the drawing: the pad sends a text, not a dict"),
        "a list": ([data_url(small_png())], r"the drawing: the pad sends a text, not a list"),
        "text that is not base64": ("data:image/png;base64,!!not base64!!", r"the drawing: not valid base64"),
        "nothing drawn": ("", r"Draw a digit"),
    }
    for what, (value, words) in cases.items():
        measured = measure(server, lambda value=value: run_event(server, add, [value, []]))
        measured.within_limits(what)
        assert_clear(measured.result[1], words, what)


def test_drawing_pad_values_are_bounded_before_decoding(server):
    add = pad_event(server)
    # a 3 MB drawing: more than any 280 x 280 pad makes (and than a request's body may hold)
    measured = measure(server, lambda: run_event(server, add, [data_url(bytes(3 << 20)), []]))
    measured.within_limits("a 3 MB drawing")
    assert_clear(measured.result[1], r"request|drawing", "a 3 MB drawing")
    # a string just over a request's limit on one text
    from demo.gradio_internals.request_limits import MAX_STRING_CHARS

    measured = measure(server, lambda: run_event(server, add, ["data:image/png;base64," + "A" * MAX_STRING_CHARS, []]))
    measured.within_limits("a drawing over the request's limit on one text")
    assert_clear(measured.result[1], rf"at most {MAX_STRING_CHARS}", "a drawing over the limit on one text")
    # the pad keeps nothing between requests: Gradio's old blob route for it is refused
    config = json.load(urllib.request.urlopen(f"{server.url}config", timeout=10))
    pad = next(c["id"] for c in config["components"] if c["type"] == "html")
    boundary = uuid.uuid4().hex
    fields = {"session_hash": "s", "component_id": pad, "fn_name": "accept_blobs", "id": "x", "type": "composite"}
    body = b"".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                    for k, v in fields.items()) + f"--{boundary}--\r\n".encode()
    status, _ = post(f"{server.url}gradio_api/component_server", body, f"multipart/form-data; boundary={boundary}")
    assert status != 200, "the pad took a blob"


def test_drawings_folder_is_private_to_the_process_and_swept(tmp_path):
    from demo.inputs.drawing_files import DRAWING_TTL_S, drawings_folder, save_drawing

    folder = drawings_folder()  # made by mkdtemp: a random name, only its owner may enter
    assert folder.name.startswith("mlvae-drawings-") and len(folder.name) > len("mlvae-drawings-")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.stat().st_uid == os.getuid()
    old = Path(save_drawing(Image.new("RGBA", (28, 28))))
    os.utime(old, (time.time() - DRAWING_TTL_S - 1,) * 2)
    new = Path(save_drawing(Image.new("RGBA", (28, 28))))
    assert new.is_file() and not old.exists()


# ---- 2. progressive JPEG bombs, and one upload named many ways --------------------------------------------
def test_progressive_jpeg_bombs_are_refused_from_their_header(server):
    bombs = [upload(server, f"bomb-{i}.jpg", progressive_bomb()) for i in range(8)]
    measured = measure(server, lambda: call(server, "swap", ["mnist", photos(bombs), False, ""]))
    measured.within_limits("/swap with eight progressive bombs")
    assert_clear(measured.result[1], r"bomb-0\.jpg: .*progressive JPEG of 15400 x 15400 pixels", "progressive bomb")


def test_jpeg_headers_tell_which_jpegs_decode_at_full_size(tmp_path):
    from mlvae import DataError
    from mlvae.data.images import jpeg_full_size_decode, open_image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 30)).save(buf, "JPEG", quality=90)
    baseline = bytearray(buf.getvalue())
    sof = baseline.index(b"\xff\xc0") + 5
    baseline[sof : sof + 4] = struct.pack(">HH", 15400, 15400)
    one_component_scan = bytearray(baseline)  # the first scan holds 1 of the 3 components: libjpeg buffers all
    sos = one_component_scan.index(b"\xff\xda") + 4
    one_component_scan[sos] = 1
    cases = {"baseline.jpg": (bytes(baseline), None), "progressive.jpg": (progressive_bomb(), "progressive"),
             "multi-scan.jpg": (bytes(one_component_scan), "multi-scan")}
    for name, (data, kind) in cases.items():
        (tmp_path / name).write_bytes(data)
        assert jpeg_full_size_decode(tmp_path / name) == kind, name
    for name in ("progressive.jpg", "multi-scan.jpg"):
        with pytest.raises(DataError, match=f"{name}: a [a-z-]+ JPEG of 15400 x 15400 pixels is larger than"):
            open_image(tmp_path / name, min_side=56, max_pixels=24_000_000)


def test_one_upload_named_many_ways_is_decoded_once(server):
    path = upload(server, "heavy.png", heavy_png())
    folder, name = path.rsplit("/", 1)
    spellings = [f"{folder}/{'./' * k}{name}" for k in range(8)]
    once = measure(server, lambda: call(server, "swap", ["mnist", photos(spellings[:1], meta=False), False, ""]))
    path = upload(server, "heavy-again.png", heavy_png(1))  # a file not yet in the cache
    folder, name = path.rsplit("/", 1)
    spellings = [f"{folder}/{'./' * k}{name}" for k in range(8)]
    eight = measure(server, lambda: call(server, "swap", ["mnist", photos(spellings, meta=False), False, ""]))
    assert once.result[1] is None and eight.result[1] is None, (once.result[1], eight.result[1])
    eight.within_limits("one upload named eight ways")
    assert eight.seconds < 2 * once.seconds + 0.5, f"eight spellings {eight.seconds:.2f} s, one {once.seconds:.2f} s"


# ---- 3. join, then cancel -------------------------------------------------------------------------------
def start_then_cancel(server: Server, fn_index: int, data: list) -> None:
    """Join an event, wait until the server starts computing it, then cancel it."""
    session, started = uuid.uuid4().hex, threading.Event()
    status, text = join(server, fn_index, data, session)
    assert status == 200, text

    def listen() -> None:
        with urllib.request.urlopen(f"{server.url}gradio_api/queue/data?session_hash={session}", timeout=60) as stream:
            for line in stream:
                if b'"process_starts"' in line:
                    started.set()
                if b'"close_stream"' in line:
                    return

    threading.Thread(target=listen, daemon=True).start()
    assert started.wait(30), "the event never started"
    body = json.dumps({"session_hash": session, "fn_index": fn_index, "event_id": json.loads(text)["event_id"]})
    post(f"{server.url}gradio_api/cancel", body.encode())


def test_cancelled_requests_keep_counting_until_their_work_ends(server):
    swap = server.fn_index(lambda d, types: d.get("api_name") == "swap")
    # requests of two distinct 24-megapixel photos each: ~0.3 s of decoding apiece
    groups = [[upload(server, f"cancel-{i}-{k}.png", heavy_png(2 + 2 * i + k)) for k in range(2)] for i in range(6)]

    def flood() -> None:  # as the attack did it: six times, join, wait until the work starts, cancel
        for group in groups[:6]:
            start_then_cancel(server, swap, ["mnist", photos(group), False, ""])
        wait_idle(server.pid)  # the cancelled requests' work, wherever it still runs

    stop = threading.Event()
    running = most_running_threads(server.pid, stop)
    try:
        measured = measure(server, flood)
    finally:
        stop.set()
    measured.within_limits("six requests started and cancelled")
    # decoding threads run in C, ready at once: two computing (with the event loop, a page probe) or six
    assert running[0] <= 4, f"{running[0]} server threads were running at once"


# ---- 4. oversized and over-long bodies ------------------------------------------------------------------
def test_oversized_and_over_long_bodies_are_refused_before_gradio_reads_them(server):
    swap = server.fn_index(lambda d, types: d.get("api_name") == "swap")
    path = upload(server, "one.png", small_png())
    cases = {
        "one upload listed 100,000 times (18 MB)": (photos([path]) * 100_000, r"larger than 1024 kB"),
        "one upload listed 5,000 times": ([{"image": {"path": path}}] * 5_000,
                                          r"list of 5000 values.*at most 200 photos in the album and 64 in any"),
        "JSON nested 500 deep": (json.loads("[" * 500 + "]" * 500), r"nests deeper than 16 levels"),
    }
    for what, (value, words) in cases.items():
        measured = measure(server, lambda value=value: join(server, swap, ["mnist", value, False, ""],
                                                            uuid.uuid4().hex))
        measured.within_limits(what)
        status, text = measured.result
        assert status == 413, f"{what}: {status} {text[:200]}"
        assert_clear(json.loads(text)["detail"], words, what)
    status, text = post(f"{server.url}gradio_api/queue/join", b"[" * 50_000 + b"]" * 50_000)
    assert status == 413 and "nests deeper" in text, text[:200]
    # a Gradio feature the demo does not use, that would run ffmpeg on a client's video where ffmpeg is installed
    status, text = post(f"{server.url}gradio_api/process_recording", b"--x--\r\n", "multipart/form-data; boundary=x")
    assert status == 404 and "does not offer" in text, text[:200]


# ---- 7. smaller ones ------------------------------------------------------------------------------------
def test_odd_values_get_messages_that_name_the_input(server):
    good = photos([upload(server, "good.png", small_png(1))])
    nan = float("nan")
    cases = [
        ("interpolate_image", ["mnist", good, good, nan, 0.5], r"'[^']+' must be a finite number, got nan"),
        ("generate", ["mnist", good, nan, 0], r"'[^']+' must be a finite number, got nan"),
        ("generate", ["mnist", good, 3, float("inf")], r"'[^']+' must be a finite number, got inf"),
        ("about", [["mnist"]], r"'Model' takes one of its choices"),
        ("swap", ["mnist", good], r"/swap takes \d+ values \('Model', .*the request sent 2"),
        ("swap", ["mnist", photos(["app.py"]), False, ""], r"not (a file )?uploaded to this demo"),
        ("swap", ["mnist", photos(["/etc/passwd"]), False, ""], r"not (a file )?uploaded to this demo"),
    ]
    for api, data, words in cases:
        result, message = call(server, api, data)
        assert_clear(message, words, f"/{api} {str(data[1:])[:60]}")


def test_file_entries_that_are_urls_are_refused_without_a_download(server):
    import http.server

    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(bytes(1 << 20))

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        for url in (f"http://127.0.0.1:{httpd.server_port}/big.png", "https://huggingface.co/big.png"):
            result, message = call(server, "swap", ["mnist", photos([url]), False, ""])
            assert_clear(message, r"is a URL: this demo does not download files", url)
    finally:
        httpd.shutdown()
    assert not hits


def test_group_labels_are_matched_to_the_photos_given(server):
    good = [upload(server, f"label-{i}.png", small_png(i)) for i in range(3)]
    broken = upload(server, "broken.png", b"not an image")
    grid, message = call(server, "swap", ["mnist", photos([good[0], broken, good[1], good[2]]), True, "a a b b"])
    assert message is None, message
    assert "group labels" not in str(grid)
    _, message = call(server, "swap", ["mnist", photos(good), True, "a a b b"])
    assert_clear(message, r"4 group labels for 3 photos", "too many labels")


# ---- 5. bad checkpoints ---------------------------------------------------------------------------------
LOAD_REGISTRY = """
import json, resource, sys, time
from demo.models import load_registry, not_loaded_note
started = time.perf_counter()
registry = load_registry(sys.argv[1:], include_shipped=False)
print(json.dumps({"models": list(registry.models), "problems": registry.problems, "note": not_loaded_note(registry),
                  "seconds": time.perf_counter() - started,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def bad_checkpoints(root: Path) -> dict[str, str]:
    """Checkpoint folders that are each wrong in one way, by name -> the words their message must hold."""
    from mlvae.checkpoint.folder import SHIPPED_DIR

    good = json.loads((SHIPPED_DIR / "mnist" / "config.json").read_text())
    weights = (SHIPPED_DIR / "mnist" / "model.safetensors").read_bytes()

    def make(name: str, config: Any, weights_bytes: bytes = weights, raw: str | None = None) -> Path:
        folder = root / name
        folder.mkdir()
        (folder / "config.json").write_text(raw if raw is not None else json.dumps(config))
        (folder / "model.safetensors").write_bytes(weights_bytes)
        return folder

    def edited(section: str, **values: Any) -> dict:
        config = json.loads(json.dumps(good))
        config[section].update(values)
        return config

    million = json.dumps({f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]} for i in range(1_000_000)})
    cases = {
        "list": ([], r"must be a JSON object"),
        "null": (None, r"must be a JSON object"),
        "fractional": (edited("model", latent_dim=2.5), r"latent_dim must be a whole number, got 2.5"),
        "negative": (edited("model", hidden_dim=-4), r"hidden_dim must be from 1 to"),
        "huge-latent": (edited("model", latent_dim=250_000), r"latent_dim must be from 1 to 4096, got 250000"),
        "mismatched-data": (edited("data", image_size=64, image_channels=3),
                            r"prepares 64 x 64 x 3 images but its model takes 28 x 28 x 1"),
        "other-latent": (edited("model", latent_dim=12), r"does not match model.safetensors \(shape mismatch"),
    }
    expected = {}
    for name, (config, words) in cases.items():
        make(name, config)
        expected[name] = words
    make("deep", None, raw="[" * 100_000 + "]" * 100_000)
    expected["deep"] = r"nests too deeply"
    header = million.encode()
    make("million-tensors", good, struct.pack("<Q", len(header)) + header)
    expected["million-tensors"] = r"header declares \d+ bytes"
    return expected


def test_a_bad_checkpoint_costs_only_itself(tmp_path):
    import subprocess
    import sys

    from mlvae.checkpoint.folder import SHIPPED_DIR
    from tests.conftest import REPO

    expected = bad_checkpoints(tmp_path)
    sources = [str(tmp_path / name) for name in expected] + [str(SHIPPED_DIR / "mnist")]
    env = dict(os.environ, PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")

    def load(args: list[str]) -> dict:
        done = subprocess.run([sys.executable, "-c", LOAD_REGISTRY, *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    alone, loaded = load(sources[-1:]), load(sources)
    assert loaded["models"] == ["mnist"], loaded
    assert len(loaded["problems"]) == len(expected), loaded["problems"]
    for (name, words), problem in zip(expected.items(), loaded["problems"], strict=True):
        assert re.search(words, problem), f"{name}: {problem}"
        assert "Traceback" not in problem and len(problem) < 600, f"{name}: {problem[:600]}"
    assert loaded["note"].count("\n- ") == len(expected)
    assert loaded["seconds"] - alone["seconds"] <= REQUEST_S, loaded
    assert loaded["peak_mb"] - alone["peak_mb"] <= EXTRA_RSS_MB, (loaded["peak_mb"], alone["peak_mb"])


def test_one_request_decodes_at_most_its_budget(server):
    from demo.inputs.decode_budget import MAX_REQUEST_PIXELS

    # 24 megapixels each, distinct: the budget pays for five
    paths = [upload(server, f"budget-{i}.png", heavy_png(20 + i)) for i in range(64)]
    measured = measure(server, lambda: call(server, "pool", ["mnist", photos(paths)]))
    measured.within_limits("/pool with 64 distinct 24-megapixel photos")
    result, message = measured.result
    assert message is None, message
    assert f"Pooling {MAX_REQUEST_PIXELS // 24_000_000} images" in str(result), str(result)[-300:]
