"""Live pooling from the webcam, without a browser: a real camera's frames pass the request limits whatever their
size within a frame's bounds, the near-duplicate gate lets different photos of one person in and keeps the same
view out, a stream that stops sending is ended, and the chart counts whole frames. (The browser's side, with a fake
camera playing photo-like frames: tests/test_demo.py.)"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import math
from types import SimpleNamespace

import pytest
from PIL import Image

from demo.computing.endpoints import Endpoints
from demo.computing.live_pooling import CHART_POINTS, LivePooling, LiveState, chart_of
from demo.gradio_internals.live_streams import LIVE_QUEUE, LiveStreamSweep
from demo.gradio_internals.request_limits import (
    MAX_BODY_BYTES,
    MAX_FRAME_CHARS,
    MAX_STRING_CHARS,
    RequestRefused,
    check_json,
    read_body,
)
from demo.models import load_registry
from tests.demo_page import camera_frame
from tests.demo_server import distinct_face_photos, face_photos


def jpeg_url(image: Image.Image, quality: int = 92) -> str:
    """A frame as Chromium's webcam sends it while streaming: canvas.toDataURL('image/jpeg') (quality 0.92)."""
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode()


def frame_body(url: str) -> bytes:
    """A stream chunk's body as Gradio's page posts it (``/gradio_api/stream/<event>``)."""
    return json.dumps({"data": ["faces", {"url": url}, None], "event_data": {"value": {"url": url},
                       "is_value_data": True}, "fn_index": 5, "trigger_id": 31, "session_hash": "s" * 10}).encode()


def receive_of(body: bytes, chunk: int = 65536):
    """An ASGI ``receive`` that sends ``body`` in chunks."""
    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)] or [b""]

    async def receive() -> dict:
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    return receive


def read(body: bytes) -> bytes:
    return asyncio.run(read_body({"headers": [(b"content-length", str(len(body)).encode())]}, receive_of(body)))


@pytest.fixture(scope="module")
def endpoints(model_args) -> tuple[Endpoints, list[str]]:
    """The demo's endpoint functions on its models (the shipped faces model in a checkout)."""
    warned: list[str] = []
    return Endpoints(load_registry([a for a in model_args if a != "--model"]), warn=warned.append), warned


PEOPLE = 6  # people whose 8 photos are pooled live (the gate is checked on 48 photos, 6 x 8)


@pytest.fixture(scope="module")
def people_frames(face_dir) -> list[list[Image.Image]]:
    """8 different photos each of PEOPLE people as photo-like 640 x 480 frames, a face found in each."""
    return [[camera_frame(photo, seed=k) for k, photo in enumerate(photos)]
            for photos in distinct_face_photos(face_dir, PEOPLE)]


@pytest.fixture(scope="module")
def person_frames(people_frames) -> list[Image.Image]:
    return people_frames[0]


def test_real_camera_frames_pass_the_request_limits_and_other_long_texts_do_not(face_dir):
    photo = face_photos(face_dir, 1, 1)[0][0]
    for width, height in [(640, 480), (1280, 720), (1920, 1080)]:
        url = jpeg_url(camera_frame(photo, width, height))
        assert len(url) > MAX_STRING_CHARS, f"a {width} x {height} frame of {len(url)} characters tests nothing"
        body = frame_body(url)
        assert check_json(read(body))["data"][1]["url"] == url, (width, height)
    # a noisy 1080p frame: over the body limit of other requests, still a frame
    noise = Image.effect_noise((1920, 1080), 120).convert("RGB")
    loud = frame_body(jpeg_url(noise, 95))
    assert len(loud) > MAX_BODY_BYTES and check_json(read(loud)) is not None
    url = jpeg_url(camera_frame(photo))
    refused = {
        "a drawing (a bare string, not a frame)": json.dumps({"data": [url]}),
        "a frame that is not an image": json.dumps({"data": [{"url": "data:text/html;base64," + url[23:]}]}),
        "two frames": json.dumps({"data": [{"url": url}, {"url": url.replace("A", "B", 1)}]}),
        "a frame three times": json.dumps({"data": [{"url": url}] * 3}),
        "a frame under another key": json.dumps({"data": [{"path": url}]}),
        "a frame over its limit": json.dumps({"data": [{"url": "data:image/jpeg;base64," + "A" * MAX_FRAME_CHARS}]}),
    }
    for what, body in refused.items():
        with pytest.raises(RequestRefused, match="characters|larger than"):
            check_json(read(body.encode()))
            pytest.fail(f"{what}: let through")
    padded = json.dumps({"data": [{"url": url}, "x" * 10_000] + ["y" * 30_000] * 40}).encode()
    assert len(padded) - len(url) > MAX_BODY_BYTES
    with pytest.raises(RequestRefused, match="larger than"):  # a frame does not make room for other values
        read(padded)


def test_different_photos_of_one_person_are_pooled_and_the_same_view_is_skipped(endpoints, people_frames, tmp_path):
    """The near-duplicate gate, on the faces model: 8 different photos of one person as camera frames are all
    pooled (for each of PEOPLE people); each again (new sensor noise, shifted 3 px, re-encoded) is skipped, and the
    status says how to add more."""
    eps, _ = endpoints
    live = LivePooling(eps.registry, eps.results, [tmp_path], frames=tmp_path)
    for person, frames in enumerate(people_frames):
        state = None
        for k, frame in enumerate(frames):
            path = tmp_path / f"frame-{k}.jpg"
            frame.save(path, quality=92)
            state, view = live.frame("faces", str(path), state)
            assert state.last == "pooled", f"person {person + 1}, photo {k + 1} of 8: {state.last}"
            assert not path.exists(), "a frame's file was kept after it was read"
        for k, frame in enumerate(frames):
            again = tmp_path / f"again-{k}.jpg"
            camera_frame(frame, 640, 480, seed=100 + k, shift=3).save(again, quality=92)  # one camera frame later
            state, view = live.frame("faces", str(again), state)
            assert state.last.startswith("skipped, like a frame already pooled"), \
                f"person {person + 1}, photo {k + 1} again: {state.last}"
        assert (state.seen, state.pooled) == (16, 8)
        assert "turn or tilt your head" in view.status and "8 pooled" in view.status


def test_frames_are_deleted_only_inside_gradios_folder(endpoints, person_frames, tmp_path):
    eps, _ = endpoints
    mine, gradios = tmp_path / "examples", tmp_path / "gradio"
    mine.mkdir()
    (gradios / "abc").mkdir(parents=True)
    kept, written = mine / "person.jpg", gradios / "abc" / "image.jpeg"
    person_frames[0].save(kept)
    person_frames[1].save(written)
    live = LivePooling(eps.registry, eps.results, [mine, gradios], frames=gradios)
    state, _ = live.frame("faces", str(kept), None)
    state, _ = live.frame("faces", str(written), state)
    assert state.pooled == 2 and kept.exists() and not written.exists() and not written.parent.exists()


def test_the_live_chart_counts_whole_frames_and_shows_at_most_its_points():
    for pooled in (1, 2, 7, CHART_POINTS, 183, 500):
        chart = chart_of(LiveState(variances=[1 / (k + 1) for k in range(pooled)]))
        numbers = [int(x) for x in chart["photos"]]  # text of whole numbers, the chart's categories
        assert numbers[0] == 1 and numbers[-1] == pooled and len(numbers) == min(pooled, CHART_POINTS)
        assert numbers == sorted(set(numbers))
        assert list(chart["variance"]) == [1 / k for k in numbers]


class FakeQueue:
    """Gradio's queue as the sweep reads it: its events by id."""

    def __init__(self, events: dict) -> None:
        self.event_ids_to_events = events


def stream_event(started: bool, queue: str = LIVE_QUEUE) -> SimpleNamespace:
    return SimpleNamespace(streaming=True, concurrency_id=queue, run_time=1.0 if started else 0.0, closed=False,
                           signal=asyncio.Event())


def test_a_live_stream_that_stops_sending_is_ended_and_others_go_on():
    events = {"silent": stream_event(True), "sending": stream_event(True), "waiting": stream_event(False),
              "other": stream_event(True, "model")}
    app = SimpleNamespace(get_blocks=lambda: SimpleNamespace(_queue=FakeQueue(events)))
    now = [100.0]
    sweep = LiveStreamSweep(None, idle_s=10, clock=lambda: now[0])

    async def passed(scope, receive, send) -> None:
        pass

    sweep.app = passed

    def request(path: str) -> None:
        asyncio.run(sweep({"type": "http", "path": path, "app": app}, None, None))

    request("/gradio_api/stream/sending")  # the first look: every started stream is timed from now
    for _ in range(12):
        now[0] += 1
        request("/gradio_api/stream/sending")
    assert events["silent"].closed and events["silent"].signal.is_set() and math.isinf(events["silent"].run_time)
    assert not events["sending"].closed and not events["waiting"].closed and not events["other"].closed
    now[0] += 11
    request("/gradio_api/queue/join")  # any request looks
    assert events["sending"].closed and not events["waiting"].closed


def test_a_stretched_photo_is_said_to_look_stretched(face_dir, tmp_path):
    """A photo stretched to 8000 x 6000 (its face distorted past finding) is refused with what to do, while the
    same photo enlarged at its own aspect is aligned."""
    from demo.inputs.preparation import Preparation, prepare_photo
    from mlvae import DataError

    prep = Preparation(64, 3, 0.8, align_faces=True)
    photo = Image.open(face_photos(face_dir, 3, 2)[0][0]).convert("RGB")  # a photo whose face is lost when stretched
    stretched, enlarged = tmp_path / "stretched.jpg", tmp_path / "enlarged.jpg"
    photo.resize((8000, 6000)).save(stretched, quality=90)
    photo.resize((photo.width * 6000 // photo.height, 6000)).save(enlarged, quality=90)
    assert prepare_photo(enlarged, prep)[0].shape == (3, 64, 64)
    with pytest.raises(DataError, match="stretched.jpg: no face found, but one is when the photo is squeezed sideways"
                                        ": the photo looks stretched"):
        prepare_photo(stretched, prep)


def test_the_newest_refused_file_gets_its_own_message_and_notes_are_not_refusals():
    from demo.inputs.photos import shown_messages

    problems = [f"bad-{k}.txt: not a readable image" for k in range(6)]
    notes = ["two.jpg: 2 faces found; the largest (the one on the left) was used"]
    lines = shown_messages(problems, notes)
    assert lines[0] == "bad-5.txt: not a readable image"  # the file just added (the gallery's last) first
    assert lines[4] == "... and 2 earlier files could not be used (bad-0.txt, bad-1.txt)"
    assert lines[5] == notes[0]  # a note is said whatever the refusals, and never counted as one
    assert shown_messages(problems[:2], []) == problems[:2][::-1]


def test_a_frame_comes_as_the_pages_data_url_and_is_decoded_within_a_frames_bounds(endpoints, person_frames,
                                                                                  tmp_path):
    """The live camera hands over the frame's data URL as the page sent it (Gradio does not decode it first): a
    1280 x 720 frame is pooled; a frame of too many pixels (a PNG of 108 megapixels of grey is 100 kB) is refused
    from its header, before it is decoded; what is not a JPEG or PNG data URL is refused; nothing is left on disk."""
    import gradio as gr
    from gradio.data_classes import ImageData

    from demo.gradio_internals.streamed_frames import hand_over_frames

    eps, _ = endpoints
    live = LivePooling(eps.registry, eps.results, [tmp_path])
    url = jpeg_url(camera_frame(person_frames[0], 1280, 720))
    assert hand_over_frames(gr.Image(sources=["webcam"], streaming=True)).preprocess(ImageData(url=url)) == url
    state, view = live.frame("faces", url, None)
    assert state.last == "pooled", state.last
    huge = io.BytesIO()  # (a JPEG that large is decoded reduced by 8, as a 1500 x 1125 frame)
    Image.new("L", (12000, 9000), 128).save(huge, "PNG")
    assert len(huge.getvalue()) < 4 << 20
    state, view = live.frame("faces", "data:image/png;base64," + base64.b64encode(huge.getvalue()).decode(), state)
    assert state.pooled == 1 and "12000 x 9000 pixels" in view.status, view.status
    for bad, words in [("data:text/html;base64,PGgxPg==", "must be a JPEG or PNG"),
                       ("data:image/jpeg;base64,!!!", "not valid base64"),
                       ("data:image/png;base64,aGVsbG8=", "not pooled")]:
        state, view = live.frame("faces", bad, state)
        assert state.pooled == 1 and words in view.status, (bad, view.status)
