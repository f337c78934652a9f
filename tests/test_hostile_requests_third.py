"""Hostile requests of the third round against the real app: file entries that private events would hand back,
extreme-aspect images, shared pending drawings, per-session state, file-entry floods, face-search and metadata
floods. Each is sent as a real client would send it and measured on the server process like the second round's
(``tests/test_hostile_requests.py``: peak RSS, time, the slowest page request meanwhile)."""
from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from tests.test_hostile_requests import (  # noqa: F401  (server: the module's app, shared)
    Server, assert_clear, call, file_data, join, measure, outcome, pad_event, photos, server, small_png, upload,
)

pytestmark = pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")


def ink_png(side: int = 280) -> bytes:
    """A drawing as the pad sends it: a black stroke on white."""
    image = Image.new("RGBA", (side, side), (255, 255, 255, 255))
    ImageDraw.Draw(image).line([(side // 2, side // 5), (side // 2, 4 * side // 5)], fill=(0, 0, 0, 255), width=18)
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


def event_in_session(server: Server, fn_index: int, data: list, session: str) -> tuple[object, str | None]:
    """(output data, None) or (None, error message) of one event, in the session ``session``."""
    status, text = join(server, fn_index, data, session)
    if status != 200:
        return None, json.loads(text).get("detail", text)
    message = outcome(server, session)
    if message.get("success"):
        return message["output"]["data"], None
    return None, str(message.get("output", {}).get("error"))


def switch_event(server: Server) -> int:
    """The private model-switch event (it takes the five galleries and puts them away per kind of model)."""
    return server.fn_index(lambda d, types: types.count("gallery") == 5 and "state" in types)


# ---- 1. file entries that private events hand back ----------------------------------------------------------
def test_private_events_never_hand_back_a_file_a_client_named(server, tmp_path):
    other = tmp_path / "other-process.png"  # another process's file in the temp folder (another user's photo)
    other.write_bytes(small_png(7))
    crafted = [str(other), ".git/config", "app.py", "checkpoints/mnist/config.json"]
    add = pad_event(server)
    editor = {"background": None, "layers": [], "composite": file_data(upload(server, "digit.png", ink_png())),
              "id": None}
    switch = switch_event(server)
    for path in crafted:
        name = Path(path).name
        gallery = [{"image": {"path": path}, "caption": None}]  # as the attack sent it: no FileData marker
        result, message = event_in_session(server, add, [editor, gallery], uuid.uuid4().hex)
        assert result is None, f"pad add handed back {path}: {str(result)[:300]}"
        assert_clear(message, rf"{name}: not a file uploaded to this demo", f"pad add with {path}")
        session = uuid.uuid4().hex  # the switch puts the galleries away, then a second switch brings them back
        outputs = []
        for model in ("mnist", "faces"):
            result, message = event_in_session(server, switch, [model, None, None, *[gallery] * 5, ""], session)
            outputs.append(str(result))
            assert result is None, f"the model switch took {path}: {str(result)[:300]}"
            assert_clear(message, rf"{name}: not a file uploaded to this demo", f"model switch with {path}")
        assert not any(name in out for out in outputs), outputs
    # the user's own upload still goes through, and the answer names only files in the upload folder
    own = upload(server, "mine.png", small_png(3))
    result, message = event_in_session(server, add, [editor, photos([own])], uuid.uuid4().hex)
    assert message is None, message
    paths = [entry["image"]["path"] for entry in result[0]]
    assert len(paths) == 2 and paths[0] == own, paths
