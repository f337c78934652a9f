"""The demo's results and messages computed in-process with the shipped models (tiny ones when missing) and real
photos from $MLVAE_DATA_DIR: sheets, the pooling summary, the messages on unusable inputs, live pooling."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from demo.computing.computations import pooling_summary
from demo.computing.endpoints import Endpoints
from demo.galleries.example_edits import EXAMPLE, example_gallery, users_entries, without_examples
from demo.galleries.example_sets import EXAMPLES_DIR
from demo.inputs.photos import read_photos
from demo.inputs.preparation import MAX_PHOTO_BYTES, Preparation
from demo.models import load_registry
from demo.results.sheets import stacked_sheet
from mlvae import latent
from mlvae.data.faces import align_face
from mlvae.model.posterior import DiagonalNormal, pool
from tests.demo_server import face_photos


@pytest.fixture(scope="module")
def endpoints(model_args) -> tuple[Endpoints, list[str]]:
    """The demo's endpoint functions on its models; the second item collects what they warn."""
    extra = [a for a in model_args if a != "--model"]
    warned: list[str] = []
    return Endpoints(load_registry(extra), warn=warned.append), warned


def test_a_pooling_sheet_of_more_than_ten_photos_is_white_between_its_blocks():
    images = torch.randint(0, 200, (12, 3, 64, 64), dtype=torch.uint8)
    sheet = np.asarray(stacked_sheet([images, images, images]).convert("RGB"))
    red = (sheet[..., 0] == 255) & (sheet[..., 1] == 0) & (sheet[..., 2] == 0)
    assert not red.any(), "the gap or the empty cells are red"
    block = np.asarray(stacked_sheet([images[:10]] * 3).convert("RGB"))
    gap = sheet[block.shape[0] : block.shape[0] + 4]  # between the first block and the second
    assert (gap == 255).all()
    empty = sheet[-10:, -10:]  # the second block holds 2 of 10 columns: its right part is empty, white
    assert (empty == 255).all()


def test_the_summary_compares_with_a_typical_photo_and_names_an_uncertain_one():
    alone = torch.tensor([0.588, 0.02, 0.05, 0.03, 0.04])
    pooled = torch.tensor([0.588, 0.019, 0.012, 0.009, 0.007])
    text = pooling_summary(alone, pooled, [1, 2, 3, 4, 5], "person")
    assert "from 0.04 (a typical single photo: the median of the 5) to 0.007, 5.7x smaller" in text
    assert "Far less certain than the rest: photo 1 (0.588)" in text
    calm = pooling_summary(torch.tensor([0.03, 0.02, 0.05]), torch.tensor([0.03, 0.012, 0.008]), [1, 2, 3], "person")
    assert "Far less certain" not in calm
    assert pooling_summary(torch.tensor([0.03]), torch.tensor([0.03]), [1], "digit").startswith("One photo")
    assert pooling_summary(torch.tensor([0.03, 0.02]), torch.tensor([0.03, 0.01]), [1, 2], "digit", "image") \
        .startswith("Pooling 2 images")  # drawings are not called photos


def test_pooling_real_photos_says_the_median_and_the_numbers_match_the_chart(endpoints, face_dir):
    eps, _ = endpoints
    photos = face_photos(face_dir, 1, 4)[0]
    _, _, chart, summary = eps.pool("faces", [(p, None) for p in photos])
    assert f"to {chart['variance'].iloc[-1]:.3g}" in summary and "median of the 4" in summary


def test_refusals_are_sentences_with_the_hint_of_the_model(endpoints, tmp_path):
    eps, warned = endpoints
    text = tmp_path / "notes.jpg"
    text.write_text("not an image\n" * 20)
    messages = {}
    for name in ("faces", "mnist"):
        with pytest.raises(Exception) as caught:
            eps.pool(name, [(str(text), None)])
        messages[name] = str(caught.value)
    for message in messages.values():
        assert "notes.jpg" in message, message
        assert not re.search(r"[^.] (Upload|Draw) ", message), f"no full stop before the hint: {message}"
    assert "digit" not in messages["faces"] and "webcam" in messages["faces"]
    assert "Draw a digit" in messages["mnist"]


def test_a_tiny_image_is_too_small_and_two_equal_faces_are_said_to_be_alike(face_dir, tmp_path):
    photo = Image.open(face_photos(face_dir, 1, 1)[0][0]).convert("RGB")
    with pytest.raises(Exception, match="only 30 x 30 pixels, too small"):
        align_face(photo.resize((30, 30)), 64, "tiny.png")
    twins = Image.new("RGB", (photo.width * 2 + 40, photo.height + 40), (128, 128, 128))
    twins.paste(photo, (10, 20))
    twins.paste(photo, (photo.width + 30, 20))
    notes = align_face(twins, 64, "twins.png").warnings("twins.png")
    assert any("faces of about the same size" in n and "the face used (the one on the" in n for n in notes), notes
    bigger = Image.new("RGB", (photo.width * 3, photo.height * 2), (128, 128, 128))
    bigger.paste(photo.resize((photo.width * 2, photo.height * 2)), (0, 0))
    bigger.paste(photo, (photo.width * 2, 0))
    notes = align_face(bigger, 64, "two.png").warnings("two.png")
    assert any("the largest (the one on the left) was used" in n for n in notes), notes  # which face: said


def test_one_oversized_file_is_named_and_the_others_kept(face_dir, tmp_path):
    good = face_photos(face_dir, 1, 2)[0]
    big = tmp_path / "big.jpg"
    big.write_bytes(Path(good[0]).read_bytes() + bytes(MAX_PHOTO_BYTES + 1))  # readable, but over the limit
    photos = read_photos([good[0], str(big), good[1]], Preparation(64, 3, 1.0, align_faces=True))
    assert len(photos) == 2 and photos.indices == [0, 2]
    assert len(photos.problems) == 1 and photos.problems[0].startswith("big.jpg: 16 MB, over the 16 MB")


def test_the_first_photo_added_replaces_the_examples(tmp_path):
    examples = example_gallery(["/x/person-0-0.png", "/x/person-0-1.png"])
    assert all(caption == EXAMPLE for _, caption in examples)
    assert without_examples(examples) is None  # only examples: nothing to do
    mine = [("/up/me.jpg", None)]
    assert without_examples(examples + mine) == mine
    assert without_examples(mine) is None
    assert users_entries(examples) == []
    example = next(p for p in sorted((EXAMPLES_DIR / "faces").glob("*.png")))
    copy = tmp_path / "gradio" / "abc" / example.name  # Gradio's copy, its caption lost on the way back
    copy.parent.mkdir(parents=True)
    shutil.copy(example, copy)
    assert without_examples([(str(copy), None)] + mine, [tmp_path / "gradio"]) == mine
    assert without_examples([(str(copy), None)] + mine, [tmp_path / "elsewhere"]) is None  # outside: never read
    fake = tmp_path / "gradio" / "abd" / example.name  # the name of an example, not its content: the user's
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not the example")
    assert without_examples([(str(fake), None)] + mine, [tmp_path / "gradio"]) is None


def test_live_pooling_frame_by_frame_is_the_pool_of_all_frames():
    torch.manual_seed(0)
    evidence = DiagonalNormal(torch.randn(6, 5), torch.randn(6, 5))
    running = None
    for k in range(6):
        running = latent.pool_into(running, evidence.index(torch.tensor([k])))
    whole = pool(evidence)
    assert torch.allclose(running.mean, whole.mean, atol=1e-5) and torch.allclose(running.logvar, whole.logvar,
                                                                                  atol=1e-5)
    seen = torch.zeros(0, 5)
    assert torch.isinf(latent.nearest_distance(torch.ones(1, 5), seen)).all()
    seen = torch.stack([torch.zeros(5), torch.ones(5)])
    assert latent.nearest_distance(torch.full((1, 5), 0.9), seen).item() == pytest.approx(0.1, abs=1e-5)


def test_live_frames_pool_skip_repeats_and_refuse_what_is_not_a_frame(endpoints, face_dir, tmp_path):
    from demo.computing.live_pooling import LivePooling, LiveState
    from demo.results.png_store import ResultStore

    eps, _ = endpoints
    live = LivePooling(eps.registry, ResultStore(tmp_path / "results"), [tmp_path])
    frames = []
    for k, photo in enumerate(face_photos(face_dir, 1, 3)[0]):
        frame = Image.new("RGB", (640, 480), (110, 110, 110))
        image = Image.open(photo).convert("RGB")
        image.thumbnail((640, 480))
        frame.paste(image, (100, 0))
        frames.append(tmp_path / f"frame-{k}.jpg")
        frame.save(frames[-1])
    again = tmp_path / "frame-again.jpg"  # Gradio writes each frame to a file of its own
    again.write_bytes(frames[0].read_bytes())
    state = None
    for path in [frames[0], again, frames[1], frames[2]]:  # the second is the first again: skipped
        state, view = live.frame("faces", str(path), state)
    assert (state.seen, state.pooled) == (4, 3) and state.variances[-1] < state.variances[0]
    assert "skipped, like a frame already pooled" in live.frame("faces", str(frames[0]), state)[1].status
    assert view.identity and Path(view.identity).is_file() and "3 pooled" in view.status
    blank = tmp_path / "blank.png"
    Image.new("RGB", (640, 480), (110, 110, 110)).save(blank)
    state, view = live.frame("faces", str(blank), state)
    assert state.pooled == 3 and "no face found" in view.status
    outside = face_photos(face_dir, 1, 1)[0][0]  # a real photo, but not a file sent to the demo
    state, view = live.frame("faces", outside, state)
    assert state.pooled == 3 and "not a webcam frame sent to this demo" in view.status
    huge = tmp_path / "huge.png"
    Image.new("RGB", (4000, 3000)).save(huge)
    state, view = live.frame("faces", str(huge), state)
    assert state.pooled == 3 and "not pooled" in view.status
    assert isinstance(live.frame("faces", None, LiveState("mnist"))[0], LiveState)  # another model: a new pool
