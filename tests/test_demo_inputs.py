"""The demo's glue without a server: preparing uploads and drawings, the model registry, examples, results."""
from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from demo.computing.model_description import about, shortfall_note
from demo.galleries.example_sets import example_set
from demo.inputs.group_labels import labels_to_groups
from demo.inputs.photos import read_photos
from demo.inputs.preparation import MAX_PIXELS, Preparation, prepare_file
from demo.inputs.prepared_cache import clear_cache, prepare_cached
from demo.models import ModelRegistry, load_registry, sources_from_env
from demo.results.png_store import ResultStore
from demo.results.sheets import GAP, grid_sheet
from mlvae import MLVAE, DataError, MLVAEError, ModelConfig, RunConfig, save_model
from mlvae.checkpoint.card import read_card
from mlvae.config import DataConfig
from mlvae.data.faces import align_face
from mlvae.data.images import image_to_tensor, open_image, to_model_mode

DIGITS = Preparation(28, 1, 1.0, digits=True)
FACES = Preparation(64, 3, 0.8)


@pytest.fixture(scope="module")
def seven(mnist_splits) -> np.ndarray:
    """A real MNIST test digit (28, 28) uint8, white on black."""
    return mnist_splits.test.images[mnist_splits.test.members(7)[0], 0].numpy()


def assert_framed_like_mnist(prepared: torch.Tensor, original: np.ndarray) -> None:
    """White on black, ink box 20 pixels high or wide, centre of mass at the centre, and the same digit."""
    arr = prepared.numpy()
    ink = arr > 64
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    assert abs(max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 - 20) <= 1
    mass = arr.sum()
    cy, cx = arr.sum(1) @ np.arange(28) / mass, arr.sum(0) @ np.arange(28) / mass
    assert abs(cy - 13.5) < 1.5 and abs(cx - 13.5) < 1.5
    corr = np.corrcoef(arr.flatten(), original.astype(np.float64).flatten())[0, 1]
    assert corr > 0.5, f"the framed drawing should look like the original digit (correlation {corr:.2f})"


def test_mnist_style_digit_is_prepared_unchanged(seven, tmp_path):
    Image.fromarray(seven).save(tmp_path / "seven.png")
    assert torch.equal(prepare_file(tmp_path / "seven.png", DIGITS)[0], torch.from_numpy(seven))


def test_drawing_on_white_is_inverted_and_framed_like_mnist(seven, tmp_path):
    # the digit drawn in black on a large white canvas, off centre, as a sketch pad or a scan delivers it
    ink = Image.fromarray(255 - seven).resize((280, 280), Image.Resampling.BICUBIC)
    canvas = Image.new("RGBA", (640, 420), (255, 255, 255, 255))
    canvas.paste(ink, (300, 90))
    canvas.save(tmp_path / "drawn.png")
    prepared = prepare_file(tmp_path / "drawn.png", DIGITS)[0].float()
    assert prepared.shape == (28, 28)
    border = torch.cat([prepared[:3].flatten(), prepared[-3:].flatten(),
                        prepared[:, :3].flatten(), prepared[:, -3:].flatten()])
    assert border.mean() < 10  # black background, like MNIST
    assert_framed_like_mnist(prepared, seven)


def test_transparent_sketch_pad_drawing_is_read_as_ink_on_white(seven, tmp_path):
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)  # transparent canvas, black strokes with alpha
    rgba[..., 3] = np.asarray(Image.fromarray(seven).resize((280, 280), Image.Resampling.BICUBIC))
    Image.fromarray(rgba, "RGBA").save(tmp_path / "pad.png")
    assert_framed_like_mnist(prepare_file(tmp_path / "pad.png", DIGITS)[0].float(), seven)


def test_empty_drawing_is_refused_with_a_message(tmp_path):
    Image.new("L", (280, 280), 255).save(tmp_path / "blank.png")
    with pytest.raises(DataError, match="empty"):
        prepare_file(tmp_path / "blank.png", DIGITS)


def png_url(image: Image.Image) -> str:
    """An image as the drawing pad sends it: a PNG data URL."""
    import base64
    import io

    buf = io.BytesIO()
    image.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def test_the_pads_drawing_is_bounded_before_decoding_and_checked_like_an_upload(seven, tmp_path):
    from demo.gradio_internals.request_limits import MAX_STRING_CHARS
    from demo.inputs.pad_drawings import MAX_DATA_URL_CHARS, NOT_DRAWN, add_drawing, read_drawing
    from demo.tabs.drawing_pad import MAX_SENT_CHARS

    assert MAX_SENT_CHARS < MAX_STRING_CHARS < MAX_DATA_URL_CHARS  # what the pad sends fits in a request
    # a drawing as the pad sends it (opaque: ink on white paper) is added, and the pad's value is blank again
    drawn = Image.new("RGBA", (280, 280), (255, 255, 255, 255))
    drawn.paste(Image.fromarray(255 - seven).resize((200, 200)).convert("RGBA"), (40, 40))
    paths, pad = add_drawing(png_url(drawn), [])
    assert pad == "" and len(paths) == 1 and Path(paths[0]).name.startswith("drawing-")
    assert_framed_like_mnist(prepare_file(Path(paths[0]), DIGITS)[0].float(), seven)
    for blank in ("", None, png_url(Image.new("RGBA", (280, 280), (255, 255, 255, 255)))):
        with pytest.raises(DataError, match=NOT_DRAWN):
            add_drawing(blank, [])
    # every other value is refused by name, before anything is decoded
    bomb = Image.new("L", (2001, 2001))  # 4 megapixels and one row: 4 kB of PNG
    hostile = {
        "x" * (MAX_DATA_URL_CHARS + 1): r"the drawing: \d+ k characters, more than the 2 MB",
        "data:image/png;base64," + "A" * (MAX_DATA_URL_CHARS - 22): r"the drawing is \d+ kB, more than the 2 MB",
        str(tmp_path / "drawn.png"): r"the drawing: not a PNG data URL",
        "data:text/html;base64,PGgxPg==": r"the drawing: not a PNG data URL",
        "data:image/png;base64,!!": r"the drawing: not valid base64",
        "data:image/png;base64,JSFQUy1BZG9iZS0zLjAgRVBTRi0zLjAK": r"the drawing: not a readable image",
        png_url(bomb): r"the drawing: .*larger than the 4 megapixels",
        png_url(Image.new("L", (1, 300), 200)): r"the drawing: 1 x 300 pixels is more elongated",
    }
    for value, words in hostile.items():
        with pytest.raises(DataError, match=words):
            read_drawing(value)
    for value in ({"composite": {"path": str(tmp_path / "drawn.png")}}, [png_url(drawn)], 7):
        with pytest.raises(DataError, match=f"the pad sends a text, not a {type(value).__name__}"):
            read_drawing(value)


def test_unreadable_files_become_named_problems(tmp_path):
    (tmp_path / "notes.jpg").write_text("just text\n" * 20)
    good = tmp_path / "good.png"
    Image.new("RGB", (90, 120), (200, 30, 30)).save(good)
    raw = good.read_bytes()
    (tmp_path / "cut.png").write_bytes(raw[: len(raw) // 2])
    photos = read_photos([tmp_path / "notes.jpg", good, tmp_path / "cut.png", tmp_path / "gone.png"], FACES)
    assert photos.names == ["good.png"] and photos.images.shape == (1, 3, 64, 64)
    assert [p.split(":")[0] for p in photos.problems] == ["notes.jpg", "cut.png", "gone.png"]
    assert "not a readable image" in photos.problems[0] and "upload it again" in photos.problems[2]


def test_a_photo_sent_again_is_prepared_once_and_changed_content_anew(seven, tmp_path):
    clear_cache()
    digit = Image.fromarray(seven)
    for folder in ("first", "again", "changed"):  # Gradio stores every upload as a new file in its own folder
        (tmp_path / folder).mkdir()
    digit.save(tmp_path / "first" / "7.png")
    shutil.copy(tmp_path / "first" / "7.png", tmp_path / "again" / "7.png")
    Image.fromarray(255 - seven).save(tmp_path / "changed" / "7.png")
    first = prepare_cached(tmp_path / "first" / "7.png", DIGITS)
    assert prepare_cached(tmp_path / "again" / "7.png", DIGITS)[0] is first[0]  # the same bytes: remembered
    changed = prepare_cached(tmp_path / "changed" / "7.png", DIGITS)[0]
    assert changed is not first[0] and torch.equal(changed, first[0])  # inverted, then framed: the same digit
    digit.save(tmp_path / "first" / "7.png", compress_level=0)  # other bytes at the same path
    assert prepare_cached(tmp_path / "first" / "7.png", DIGITS)[0] is not first[0]
    shutil.copy(tmp_path / "again" / "7.png", tmp_path / "again" / "other-name.png")  # renamed: still remembered
    assert prepare_cached(tmp_path / "again" / "other-name.png", DIGITS)[0] is first[0]


def test_limit_keeps_the_first_photos_and_says_so(tmp_path):
    paths = []
    for i in range(5):
        paths.append(tmp_path / f"{i}.png")
        Image.new("L", (40, 40), 40 * i).save(paths[-1])
    photos = read_photos(paths, FACES, limit=3)
    assert len(photos) == 3 and "uses the first 3" in photos.problems[0]
    assert photos.images[:, 0, 0, 0].tolist() == [0, 40, 80]


def test_huge_png_is_refused_before_decoding_and_huge_jpeg_is_decoded_reduced(tmp_path):
    side = int(np.ceil(np.sqrt(MAX_PIXELS))) + 16
    Image.new("L", (side, side), 7).save(tmp_path / "huge.png", compress_level=1)
    with pytest.raises(DataError, match=f"{side} x {side} pixels"):
        prepare_file(tmp_path / "huge.png", FACES)
    left_red = np.zeros((6000, 8000, 3), dtype=np.uint8)  # 48 MP photo: red left half, blue right half
    left_red[:, :4000, 0] = 220
    left_red[:, 4000:, 2] = 220
    Image.fromarray(left_red).save(tmp_path / "camera.jpg", quality=90)
    prepared = prepare_file(tmp_path / "camera.jpg", FACES)
    assert prepared.shape == (3, 64, 64)
    assert prepared[0, :, :24].float().mean() > 180 and prepared[2, :, :24].float().mean() < 40
    assert prepared[2, :, 40:].float().mean() > 180 and prepared[0, :, 40:].float().mean() < 40


def test_group_labels():
    assert labels_to_groups("a a b", 3) == [[1], [0], []]
    assert labels_to_groups("  ", 3) == [[1, 2], [0, 2], [0, 1]]  # empty: one group
    assert labels_to_groups("x,y,x", 3) == [[2], [], [0]]
    with pytest.raises(DataError, match="2 group labels for 3 photos"):
        labels_to_groups("a b", 3)


def test_registry_reports_problems_and_never_raises(tmp_path, monkeypatch):
    registry = load_registry([str(tmp_path / "missing"), str(tmp_path)], include_shipped=False)
    assert registry.models == {} and registry.default is None and len(registry.problems) == 2
    assert "missing" in registry.problems[0] and "config.json" in registry.problems[1]
    with pytest.raises(MLVAEError, match="No model could be loaded"):
        registry.get("faces")
    assert sources_from_env("runs/a/best, user/model\nother") == ["runs/a/best", "user/model", "other"]
    monkeypatch.setenv("MLVAE_MODELS", "one two")
    assert sources_from_env() == ["one", "two"]


def test_registry_names_run_folders_and_reads_model_cards(tmp_path):
    config = RunConfig(model=ModelConfig(hidden_dim=16, latent_dim=3))
    run = tmp_path / "my-run"
    save_model(run / "best", MLVAE(config.model), config)
    (run / "best" / "README.md").write_text("---\nlicense: mit\n---\n# Card\nval ELBO 123.4\n")
    registry = load_registry([str(run), str(run / "best")], include_shipped=False)
    assert list(registry.models) == ["my-run", "my-run-2"]
    m = registry.get("my-run")
    assert m.is_digits and m.card == "# Card\nval ELBO 123.4"
    assert read_card(tmp_path) is None
    assert m.shortfall is None and shortfall_note(m) == "" and "Below its goals" not in about(m)


def test_a_model_whose_card_says_it_misses_its_goals_says_so_in_the_demo(tmp_path):
    config = RunConfig(model=ModelConfig(hidden_dim=16, latent_dim=3))
    save_model(tmp_path / "weak", MLVAE(config.model), config)
    (tmp_path / "weak" / "README.md").write_text(
        "---\nmlvae:\n  test_images: 10\n  shortfall: swaps move the person 20% of the time (goal 30%).\n---\n# Card\n")
    m = load_registry([str(tmp_path / "weak")], include_shipped=False).get("weak")
    assert m.shortfall == "swaps move the person 20% of the time (goal 30%)."
    assert "falls short" in shortfall_note(m) and "20% of the time" in shortfall_note(m)
    assert "**Below its goals**: swaps move the person 20%" in about(m)


def test_a_model_trained_with_a_term_beyond_the_paper_says_so_in_the_about_tab(tmp_path):
    plain = RunConfig(model=ModelConfig(hidden_dim=16, latent_dim=3))
    departed = dataclasses.replace(plain, train=dataclasses.replace(
        plain.train, feature_weight=4.0, feature_net="face-features", init_from="paper-exact"))
    for name, config in (("plain", plain), ("departed", departed)):
        save_model(tmp_path / name, MLVAE(config.model), config)
    registry = load_registry([str(tmp_path / "plain"), str(tmp_path / "departed")], include_shipped=False)
    assert "Departure from the paper" not in about(registry.get("plain"))
    text = about(registry.get("departed"))
    assert "**Departure from the paper**: trained with a feature-consistency term" in text
    assert "starting from the weights of `paper-exact`" in text


def test_app_without_models_builds_and_says_what_to_do():
    from demo.app import build_app

    app = build_app(ModelRegistry(problems=["could not load the checkpoint 'x'"]))
    texts = [c["props"].get("value") or "" for c in app.get_config_file()["components"] if c["type"] == "markdown"]
    assert any("No model could be loaded" in t and "could not load the checkpoint" in t for t in texts)


def test_make_examples_writes_model_generated_examples(tiny_mnist_runs, tmp_path):
    from demo.make_examples import main

    faces = MLVAE(ModelConfig(architecture="conv", latent_dim=8, width=0.125))
    save_model(tmp_path / "faces", faces.eval(), RunConfig(model=faces.config, data=DataConfig(
        dataset="folder", image_size=64, image_channels=3, crop_fraction=0.8)))
    out = tmp_path / "examples"
    assert main(["--digits", str(tiny_mnist_runs["mlvae"]), "--faces", str(tmp_path / "faces"), "--out", str(out)]) == 0
    digits, people = sorted((out / "digits").glob("*.png")), sorted((out / "faces").glob("*.png"))
    assert len(digits) == 50 and len(people) == 30
    assert Image.open(digits[0]).size == (28, 28) and Image.open(digits[0]).mode == "L"
    assert Image.open(people[0]).size == (64, 64) and Image.open(people[0]).mode == "RGB"
    ex = example_set("digits", out)
    assert len(ex.pool) == 5 and len(ex.swap) == 8 and ex.swap_labels == "a a b b c c d d"
    assert all(Path(p).name.startswith("digit-3-") for p in ex.pool)
    assert example_set("faces", tmp_path / "nowhere").pool == []


def test_results_are_written_whole_and_old_ones_swept(tmp_path):
    store = ResultStore(tmp_path)
    path = Path(store.save(Image.new("RGB", (30, 20), (1, 2, 3))))
    assert Image.open(path).getpixel((0, 0)) == (1, 2, 3) and not list(tmp_path.glob("*.tmp"))
    old = Path(store.save(Image.new("L", (5, 5))))
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert store.sweep() == 1 and path.exists() and not old.exists()


def test_grid_sheet_layout():
    grid = torch.zeros(2, 3, 3, 8, 8)
    grid[1, 2] = 1.0
    headers = torch.full((3, 3, 8, 8), 0.5)
    sheet = np.asarray(grid_sheet(grid, row_headers=headers[:2], col_headers=headers))
    step = 8 + GAP
    scale = 7  # 8-pixel tiles are enlarged to at least 56 pixels
    assert sheet.shape == ((3 * step - GAP) * scale, (4 * step - GAP) * scale, 3)
    assert (sheet[:8 * scale, :8 * scale] == 255).all()  # the blank corner
    assert (sheet[2 * step * scale, 3 * step * scale] == 255).all()  # grid[1, 2], below and right of headers
    assert (sheet[step * scale, 0] == 128).all()  # a row header


def test_aligned_faces_model_gets_the_face_and_faceless_photos_are_refused_by_name(face_dir, tmp_path):
    aligned = Preparation(64, 3, 0.8, align_faces=True)
    person = sorted(p for p in face_dir.iterdir() if p.is_dir())[0]
    photo = sorted(person.glob("*.jpg"))[0]
    shutil.copy(photo, tmp_path / "me.jpg")
    Image.new("RGB", (300, 200), (40, 120, 200)).save(tmp_path / "sky.png")
    photos = read_photos([str(tmp_path / "me.jpg"), str(tmp_path / "sky.png")], aligned)
    assert photos.names == ["me.jpg"] and len(photos.problems) == 1
    assert photos.problems[0].startswith("sky.png: no face found")
    want = image_to_tensor(align_face(to_model_mode(open_image(photo), 3), 64).image)
    assert torch.equal(photos.images[0], want)  # what the model sees is the aligned face, not a centre crop


def test_about_shows_no_server_path(tmp_path):
    config = RunConfig(model=ModelConfig(hidden_dim=16, latent_dim=3))
    save_model(tmp_path / "deep" / "inside" / "mine", MLVAE(config.model), config)
    m = load_registry([str(tmp_path / "deep" / "inside" / "mine")], include_shipped=False).get("mine")
    text = about(m)
    assert "`mine`" in text and str(tmp_path) not in text and "/inside/" not in text
