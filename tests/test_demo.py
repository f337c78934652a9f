"""The real demo app, started on a free local port, driven through gradio_client and headless Chromium.

Models: the shipped checkpoints/mnist and checkpoints/faces when present, otherwise tiny ones trained on
real MNIST and real CelebA photos (conftest.py). Inputs are real MNIST digits and real face photos from $MLVAE_DATA_DIR
(read in place, or written to a tmp dir when altered; never into the repository).
"""
from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from demo.results.axis_labels import BAND
from demo.results.sheets import GAP
from mlvae.checkpoint.folder import SHIPPED_DIR
from mlvae.data.images import display_scale
from tests.demo_page import SERVER_PATH, Page, chromium, fake_camera_video
from tests.demo_server import REPO, distinct_face_photos, face_photos, gallery, load, running_app

SCREENSHOTS = REPO / "test-output" / "screenshots"
WEBCAM = "Take photos with the webcam"  # the gallery's webcam button


# ---- server, inputs (models and face photos: tests/conftest.py) --------------------------------------------
@pytest.fixture(scope="session")
def gradio_temp(tmp_path_factory) -> Path:
    """The server's own Gradio folder (uploads, and its results in mlvae-demo-results/): no other process's."""
    return tmp_path_factory.mktemp("gradio")


@pytest.fixture(scope="session")
def server(model_args, tmp_path_factory, gradio_temp):
    """The real app (``python app.py``) in a subprocess; yields its URL."""
    try:
        with running_app(model_args, tmp_path_factory.mktemp("app") / "app.log",
                         env={"GRADIO_TEMP_DIR": str(gradio_temp)}) as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="session")
def digit_files(mnist_splits, tmp_path_factory) -> dict[int, list[str]]:
    """Real MNIST test digits as PNG files, 8 per class."""
    folder = tmp_path_factory.mktemp("digits")
    test = mnist_splits.test
    files: dict[int, list[str]] = {}
    for digit in range(10):
        files[digit] = []
        for j, i in enumerate(test.members(digit)[:8].tolist()):
            path = folder / f"{digit}-{j}.png"
            Image.fromarray(test.images[i, 0].numpy()).save(path)
            files[digit].append(str(path))
    return files


def sheet_size(rows: int, cols: int, tile: int) -> tuple[int, int]:
    """(height, width) of a demo sheet of rows x cols tiles of ``tile`` pixels."""
    scale = display_scale(tile)
    return (rows * (tile + GAP) - GAP) * scale, (cols * (tile + GAP) - GAP) * scale


def grid_size(rows: int, cols: int, tile: int) -> tuple[int, int]:
    """(height, width) of a labelled grid (swap, interpolation): the tiles plus the axis bands under and beside."""
    height, width = sheet_size(rows, cols, tile)
    return height + BAND, width + BAND


def tile(sheet: np.ndarray, row: int, col: int, size: int) -> np.ndarray:
    """Tile (row, col) of a sheet."""
    step = (size + GAP) * display_scale(size)
    span = size * display_scale(size)
    return sheet[row * step : row * step + span, col * step : col * step + span]


MODELS = {"mnist": 28, "faces": 64}  # name in the picker -> image size


def inputs_for(name: str, digit_files, face_dir, count: int) -> list[str]:
    """``count`` real photos of one group: one digit class, or one person."""
    return digit_files[3][:count] if name == "mnist" else face_photos(face_dir, 1, count)[0]


# ---- the tabs through gradio_client ------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(MODELS))
def test_pool_evidence_shapes_and_pooling_changes_reconstructions(client, name, digit_files, face_dir):
    size, photos = MODELS[name], inputs_for(name, digit_files, face_dir, 5)
    sheet_path, fresh_path, chart, summary = client.predict(name, gallery(photos), api_name="/pool")
    sheet, fresh = load(sheet_path), load(fresh_path)
    assert sheet.shape[:2] == sheet_size(3, 5, size)  # rows: input, alone, pooled
    assert fresh.shape[:2] == sheet_size(2, 4, size)  # two rows of four
    alone = np.stack([tile(sheet, 1, c, size) for c in range(5)])
    pooled = np.stack([tile(sheet, 2, c, size) for c in range(5)])
    assert np.abs(alone - pooled).max() >= 3, "pooling the content must change the reconstructions"
    pooled_curve = [row[1] for row in chart["data"]]
    assert len(pooled_curve) == 5 and all(b < a for a, b in zip(pooled_curve, pooled_curve[1:], strict=False))
    assert f"Pooling 5 {'images' if name == 'mnist' else 'photos'}" in summary  # drawings are not photos


@pytest.mark.parametrize("name", list(MODELS))
def test_interpolation_ends_match_the_grid_corners(client, name, digit_files, face_dir):
    size = MODELS[name]
    if name == "mnist":
        a, b = digit_files[2][:2], digit_files[7][:1]
    else:
        a, b = face_photos(face_dir, 2, 2)
    image_path, grid_path = client.predict(name, gallery(a), gallery(b), 0.0, 0.0, api_name="/interpolate")
    grid = load(grid_path)
    assert grid.shape[:2] == grid_size(7, 7, size)
    start = load(image_path)
    assert start.shape[:2] == sheet_size(1, 1, size)
    assert np.abs(start - tile(grid, 0, 0, size)).max() <= 2
    end = load(client.predict(name, gallery(a), gallery(b), 1.0, 1.0, api_name="/interpolate_image"))
    assert np.abs(end - tile(grid, 6, 6, size)).max() <= 2
    assert np.abs(end - start).max() >= 3
    # style only (content kept at A): the grid's first row, last column
    style_only = load(client.predict(name, gallery(a), gallery(b), 1.0, 0.0, api_name="/interpolate_image"))
    assert np.abs(style_only - tile(grid, 0, 6, size)).max() <= 2


@pytest.mark.parametrize("name", list(MODELS))
def test_swap_grid_pooling_makes_a_groups_columns_equal(client, name, digit_files, face_dir):
    size = MODELS[name]
    if name == "mnist":
        photos = [p for d in (1, 4, 6, 9) for p in digit_files[d][:2]]
    else:
        photos = [p for person in face_photos(face_dir, 4, 2) for p in person]
    labels = "a a b b c c d d"
    plain = load(client.predict(name, gallery(photos), False, labels, api_name="/swap"))
    pooled = load(client.predict(name, gallery(photos), True, labels, api_name="/swap"))
    assert plain.shape[:2] == pooled.shape[:2] == grid_size(9, 9, size)  # inputs on top and left
    col = lambda sheet, k: np.stack([tile(sheet, r, k + 1, size) for r in range(1, 9)])  # noqa: E731
    # pooled: photos 0 and 1 share one content, so their columns match; alone they differ
    assert np.abs(col(pooled, 0) - col(pooled, 1)).max() <= 2
    assert np.abs(col(plain, 0) - col(plain, 1)).max() >= 3
    # row r keeps the style of photo r: the inputs' headers are the prepared inputs themselves
    assert np.abs(tile(plain, 0, 1, size) - tile(plain, 1, 0, size)).max() == 0


@pytest.mark.parametrize("name", list(MODELS))
def test_generate_is_seeded(client, name, digit_files, face_dir):
    size, photos = MODELS[name], inputs_for(name, digit_files, face_dir, 3)
    first = load(client.predict(name, gallery(photos), 5, 1, api_name="/generate"))
    again = load(client.predict(name, gallery(photos), 5, 1, api_name="/generate"))
    other = load(client.predict(name, gallery(photos), 5, 2, api_name="/generate"))
    assert first.shape[:2] == sheet_size(1, 5, size)
    assert np.array_equal(first, again)
    assert np.abs(first - other).max() >= 3


def test_about_describes_the_model_and_its_card(client):
    for name in MODELS:
        text = client.predict(name, api_name="/about")
        assert "Multi-Level VAE" in text and "parameters" in text
        card = SHIPPED_DIR / name / "README.md"
        if card.exists():
            assert "no model card" not in text
        else:
            assert "no model card" in text


# ---- the API's names and answers ---------------------------------------------------------------------------
def test_every_api_output_has_a_meaningful_name(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/pool", "/interpolate", "/interpolate_image", "/swap", "/generate", "/album", "/about"}
    for name, endpoint in endpoints.items():
        for output in endpoint["returns"]:
            assert output["label"] and not re.fullmatch(r"value_\d+", output["label"]), (name, output["label"])


def raw_answer(url: str, api: str, data: list) -> tuple[str, object]:
    """(event, data) of one call over Gradio's HTTP API, as any client receives it (no gradio_client)."""
    import httpx

    with httpx.Client(timeout=120) as http:
        event = http.post(f"{url}gradio_api/call/{api}", json={"data": data}).json()["event_id"]
        body = http.get(f"{url}gradio_api/call/{api}/{event}").text
    kind, payload = re.findall(r"^event: (\w+)\ndata: (.*)$", body, re.MULTILINE)[-1]
    return kind, json.loads(payload)


def strings(value: object) -> list[tuple[str, str]]:
    """Every (key, string) in a JSON answer."""
    if isinstance(value, dict):
        return [pair for k, v in value.items() for pair in ([(k, v)] if isinstance(v, str) else strings(v))]
    if isinstance(value, list):
        return [pair for v in value for pair in (strings(v) if not isinstance(v, str) else [("", v)])]
    return []


def test_no_api_answer_names_a_server_path(server, gradio_temp, digit_files, bad_files):
    """Answers hold no path of the server; files come as Gradio's own file references, in its cache folder."""
    import httpx

    with httpx.Client(timeout=60) as http:
        upload = lambda path: http.post(f"{server}gradio_api/upload", files={  # noqa: E731
            "files": (Path(path).name, Path(path).read_bytes(), "image/png")}).json()[0]
        photos = [{"image": {"path": upload(p), "meta": {"_type": "gradio.FileData"}}, "caption": None}
                  for p in digit_files[3][:2] + [bad_files["text.jpg"]]]
    cache = gradio_temp  # Gradio's cache folder (the server's GRADIO_TEMP_DIR)
    calls = {"pool": ["mnist", photos], "interpolate": ["mnist", photos[:1], photos[1:2], 0.5, 0.5],
             "interpolate_image": ["mnist", photos[:1], photos[1:2], 0.3, 0.7], "swap": ["mnist", photos, True, ""],
             "generate": ["mnist", photos, 4, 1], "about": ["faces"]}
    answers = {api: raw_answer(server, api, data) for api, data in calls.items()}
    answers["refused"] = raw_answer(server, "pool", ["faces", photos[2:]])
    assert answers["refused"][0] == "error" and all(kind == "complete" for kind, _ in list(answers.values())[:-1])
    for api, (_, answer) in answers.items():
        for key, text in strings(answer):
            if key in ("path", "url"):  # a file reference: Gradio's cache, never the repository or a checkpoint
                local = text.split("file=", 1)[1] if key == "url" else text
                assert Path(local).resolve().is_relative_to(cache.resolve()), (api, text)
            else:
                assert not SERVER_PATH.search(text) and str(REPO) not in text, (api, key, text[:200])


# ---- bad input --------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def bad_files(face_dir, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad")
    photo = Path(face_photos(face_dir, 1, 1)[0][0])
    rgb = Image.open(photo).convert("RGB")
    files = {name: folder / name for name in
             ("text.jpg", "truncated.jpg", "huge.png", "grey16.png", "cmyk.jpg", "palette.png", "rotated.jpg")}
    files["text.jpg"].write_text("not an image, only text\n" * 40)
    data = photo.read_bytes()
    files["truncated.jpg"].write_bytes(data[: len(data) // 3])
    Image.new("L", (10000, 10000), 128).save(files["huge.png"], compress_level=1)
    grey = np.asarray(rgb.convert("L"), dtype=np.uint16) * 257
    Image.fromarray(grey).save(files["grey16.png"])  # 16-bit greyscale PNG
    rgb.convert("CMYK").save(files["cmyk.jpg"])
    rgb.convert("P", palette=Image.Palette.ADAPTIVE).save(files["palette.png"])
    exif = Image.Exif()
    exif[0x0112] = 6  # EXIF orientation: rotate 90 degrees when displayed
    rgb.transpose(Image.Transpose.ROTATE_90).save(files["rotated.jpg"], exif=exif)
    return files


def test_unusable_files_get_a_clear_message_and_the_server_keeps_serving(client, bad_files, face_dir):
    from gradio_client.exceptions import AppError

    expected = {"text.jpg": "not a readable image", "truncated.jpg": "not a readable image",
                "huge.png": "10000 x 10000 pixels"}
    for name, words in expected.items():
        with pytest.raises(AppError, match=words):
            client.predict("faces", gallery([bad_files[name]]), api_name="/pool")
    with pytest.raises(AppError, match="needs a photo"):
        client.predict("faces", [], api_name="/pool")
    # a good photo among bad ones is used; the server still answers
    good = face_photos(face_dir, 1, 2)[0]
    *_, summary = client.predict("faces", gallery([bad_files["text.jpg"], *good]), api_name="/pool")
    assert "Pooling 2 photos" in summary


def test_unusual_colour_modes_and_orientation_are_prepared(client, bad_files, face_dir):
    original = face_photos(face_dir, 1, 1)[0][0]
    photos = [original] + [bad_files[n] for n in ("grey16.png", "cmyk.jpg", "palette.png", "rotated.jpg")]
    sheet = load(client.predict("faces", gallery(photos), api_name="/pool")[0])
    assert sheet.shape[:2] == sheet_size(3, 5, 64)
    seen = [tile(sheet, 0, c, 64) for c in range(5)]  # the first row: each input as the model sees it
    assert np.abs(seen[1][..., 0] - seen[1][..., 1]).max() == 0  # 16-bit greyscale: grey, not black or white
    assert abs(seen[1].mean() - seen[0].mean()) < 12
    for k in (2, 3, 4):  # CMYK, palette, and the rotated copy turned upright by its EXIF tag
        # (aligned faces: a re-encoded copy moves the landmarks by a pixel or two, hence more than a crop's tolerance)
        assert np.abs(seen[k] - seen[0]).mean() < 20, k
    upright_gap = np.abs(seen[4] - seen[0]).mean()
    assert np.abs(np.rot90(seen[4]) - seen[0]).mean() > upright_gap + 10  # (the check would see a wrong orientation)


def test_one_photo_and_fifty_photos(client, face_dir, digit_files):
    *_, summary = client.predict("faces", gallery(face_photos(face_dir, 1, 1)[0]), api_name="/pool")
    assert summary.startswith("One photo")
    fifty = [p for person in face_photos(face_dir, 2, 25) for p in person]
    assert len(fifty) == 50
    sheet_path, _, chart, summary = client.predict("faces", gallery(fifty), api_name="/pool")
    assert "Pooling 50 photos" in summary
    assert load(sheet_path).shape[0] > sheet_size(3, 10, 64)[0]  # wrapped into blocks of 10 columns
    swap = load(client.predict("mnist", gallery([p for d in range(10) for p in digit_files[d][:5]]), False, "",
                               api_name="/swap"))
    assert swap.shape[:2] == grid_size(9, 9, 28)  # the first 8 of 50


# ---- the page in headless Chromium ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    with chromium() as driver:
        yield driver


def test_the_page_load_and_a_model_switch_compute_each_tab_once(server, browser, gradio_temp):
    """Each tab's result is computed once when the page loads and once when the model changes (counted as the
    result files the server writes: pool 2, interpolate 2, swap 1, generate 1, album 1), though several events ask."""
    results = gradio_temp / "mlvae-demo-results"
    written = lambda: len(list(results.glob("*.png"))) if results.is_dir() else 0  # noqa: E731

    def settled() -> int:
        """The count of result files once none has been written for 4 s."""
        count, since = written(), time.monotonic()
        while time.monotonic() - since < 4:
            time.sleep(0.5)
            if written() != count:
                count, since = written(), time.monotonic()
        return count

    page = Page(browser, server, SCREENSHOTS)
    before = settled()
    page.open(1400, 1000)
    loaded = settled() - before
    shown = page.css("#model input")[0].get_attribute("value")
    other = next(label for label in ("digits (MNIST)", "faces (64x64 colour)") if label != shown)
    note = page.css("#examples-note")[0].text
    page.select_model(other)
    page.wait(lambda: page.css("#examples-note")[0].text != note, 30, "the other kind's examples")
    switched = settled() - before - loaded
    assert loaded == switched == 7, f"{loaded} results written on loading, {switched} on switching (7 each: once a tab)"


def test_page_in_chromium_does_what_a_new_user_did(server, browser, face_dir, digit_files, bad_files):
    """Upload, switch models and back, move a slider with the keyboard, draw two digits in a row, read the axis
    labels; every tab at 1400x1000 and 400x900 on screen (screenshots in test-output/), no server path shown."""
    from selenium.webdriver.common.keys import Keys

    page = Page(browser, server, SCREENSHOTS)
    page.open(400, 900)
    texts = page.every_tab("400x900-digits")  # every tab reachable on a narrow screen: no overflow menu
    page.resize(1400, 1000)
    texts += page.every_tab("1400x1000-digits")

    # the digits model's words and the card's shortfall line with its link to the card
    page.tab("Pool evidence")
    assert "Drawings of one digit" in page.text() and "Photos of one person" not in page.text()
    assert "falls short of its goals" in page.css("#shortfall")[0].text
    page.css("#to-card")[0].click()
    page.wait(lambda: page.css("button[role=tab][aria-selected=true]")[0].text == "About", 10, "the About tab")
    figures = page.wait(lambda: page.css("#about-figures img"), 20, "the card's figures")
    page.wait(lambda: all(int(img.get_attribute("naturalWidth") or 0) > 0 for img in figures), 20, "figures loaded")

    # two digits drawn in a row, with Add between them: the brush stays selected; the first replaces the examples
    page.tab("Pool evidence")
    assert page.gallery_names("pool")[0].startswith("digit-")
    next(b for b in page.css("button.label-wrap") if b.is_displayed() and "Draw a digit" in b.text).click()
    for count, strokes in ((1, [[(0, -60), (0, 60)]]), (2, [[(-40, -50), (40, -50), (-30, 60), (40, 60)]])):
        page.draw_digit("pool", strokes)
        next(b for b in page.css("button") if b.is_displayed() and b.text == "Add the drawing to the photos").click()
        page.wait(lambda count=count: len(page.gallery_names("pool")) == count, 20,
                  f"drawing {count} alone in the gallery")
    assert not [n for n in page.gallery_names("pool") if n.startswith("digit-")], "drawings pooled with examples"
    assert not [t for t in page.toasts() if "Draw a digit" in t], "the second drawing was not drawn"
    page.wait(lambda: "Pooling 2 images" in page.css("#pool-summary")[0].text, 30, "the pooled drawings")

    # a slider moved with the keyboard updates the image; with only A there is a notice saying B is needed
    page.tab("Interpolate")
    page.wait(lambda: page.image_src("#interp-image"), 30, "the interpolation")
    shown = page.image_src("#interp-image")
    slider = page.css("#style-weight input[type=range]")[0]
    slider.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    page.wait(lambda: page.image_src("#interp-image") not in ("", shown), 30, "the image after the arrow keys")
    assert page.css("#style-weight input[type=number]")[0].get_attribute("value") == "0.35"
    page.css("#interp-b-photos button[aria-label=Clear]")[0].click()
    notice = page.wait(lambda: [n for n in page.css("#interpolate-notice") if n.is_displayed()], 30, "a notice")
    assert "add a photo to B" in notice[0].text
    page.tab("Pool evidence")
    page.tab("Interpolate")  # a tab's notice stays until its next update, however the user moves about
    assert [n for n in page.css("#interpolate-notice") if n.is_displayed() and "add a photo to B" in n.text]

    # uploads are the user's: switch to faces, upload, switch to digits and back: they are still there
    page.select_model("faces (64x64 colour)")
    page.tab("Pool evidence")
    page.wait(lambda: "Photos of one person" in page.text(), 30, "the faces model's words")
    page.tab("Swap grid")
    page.wait(lambda: len(page.gallery_names("swap")) == 8, 30, "the faces examples")
    page.css("#swap-photos button[aria-label=Clear]")[0].click()
    page.wait(lambda: not page.css("#swap-grid img"), 30, "the cleared grid")
    labels = page.css("#swap-labels input, #swap-labels textarea")
    assert labels and labels[0].get_attribute("value") == "", "clearing the photos clears their group labels"
    photos = [p for person in face_photos(face_dir, 3, 1) for p in person]
    page.css("#swap-photos input[type=file]")[0].send_keys("\n".join(photos))
    image = page.wait(lambda: page.css("#swap-grid img"), 90, "the swap grid of the uploads")[0]
    page.wait(lambda: image.get_attribute("naturalWidth") not in (None, "0"), 30, "the grid image")
    assert int(image.get_attribute("naturalWidth")) == grid_size(4, 4, 64)[1]  # 3 photos + the header + labels
    uploaded = [Path(p).name for p in photos]
    assert page.gallery_names("swap") == uploaded
    page.select_model("digits (MNIST)")
    page.wait(lambda: len(page.gallery_names("swap")) == 8, 30, "the digits' own swap inputs")
    assert "digit-" in page.gallery_names("swap")[0]
    page.select_model("faces (64x64 colour)")
    page.wait(lambda: page.gallery_names("swap") == uploaded, 30, "the uploads, back with their model")
    # one usable photo and a refused file: the value as text (no one-dot chart), the refusal said once, in the tab
    page.tab("Pool evidence")
    page.css("#pool-photos button[aria-label=Clear]")[0].click()
    page.wait(lambda: not page.css("#pool-sheet img"), 30, "the cleared pool")
    page.css("#pool-photos input[type=file]")[0].send_keys("\n".join([photos[0], str(bad_files["text.jpg"])]))
    page.wait(lambda: page.css("#pool-summary")[0].text.startswith("One photo"), 60, "one photo pooled")
    assert not [c for c in page.css("#pool-chart") if c.is_displayed()], "a chart of a single dot"
    notice = page.css("#pool-notice")[0]
    assert notice.is_displayed() and notice.text.count("text.jpg") == 1 and page.text().count("text.jpg") == 1
    assert not [t for t in page.toasts() if "text.jpg" in t], "the refusal also as a toast"
    texts += page.every_tab("1400x1000-faces")
    # the axis labels: named on the page and drawn under and beside the grids
    assert "labelled under and beside the grid" in texts and "labelled under and beside it" in texts

    # the webcam view is not squeezed into the gallery's box
    page.tab("Generate")
    next(b for b in page.css("#generate-photos button") if b.get_attribute("aria-label") == WEBCAM).click()
    access = page.wait(lambda: [b for b in page.css("#generate-photos button") if "Access Webcam" in b.text], 10,
                       "the webcam's button")
    access[0].click()
    video = page.wait(lambda: [v for v in page.css("#generate-photos video")
                               if v.is_displayed() and int(v.get_attribute("videoHeight") or 0) > 0], 20, "the webcam")
    time.sleep(0.5)  # laid out at the stream's size
    assert video[0].size["height"] >= 300, f"webcam view {video[0].size}"
    page.screenshot("1400x1000-faces-webcam")

    assert not SERVER_PATH.search(texts) and str(REPO) not in texts, "a server path on the page"


# ---- your photos first, and live pooling from the webcam (issue 24) ----------------------------------------
def faces_page(server: str, driver, width: int = 1400, height: int = 1000) -> Page:
    """The page at ``width`` x ``height`` with the faces model selected and its examples shown."""
    page = Page(driver, server, SCREENSHOTS)
    page.open(width, height)
    page.select_model("faces (64x64 colour)")
    page.wait(lambda: page.gallery_names("pool")[:1] == ["person-0-0.png"], 30, "the faces examples")
    return page


def thumbnail_texts(page: Page, key: str) -> list[str]:
    """The caption shown on each thumbnail of a gallery."""
    return [item.text.strip() for item in page.css(f"#{key}-photos .thumbnail-item")]


def shown(page: Page, selector: str) -> str:
    """The text of the first displayed element matching ``selector`` ("" when none)."""
    found = [e for e in page.css(selector) if e.is_displayed()]
    return found[0].text if found else ""


def test_your_photos_replace_the_examples_which_say_they_are_examples(server, browser, face_dir):
    page = faces_page(server, browser)
    note = page.css("#examples-note")[0].text
    assert "examples the model decoded itself" in note and "webcam" in note and "replaces" in note
    assert thumbnail_texts(page, "pool") == ["example"] * 5
    mine = face_photos(face_dir, 1, 3)[0]
    page.css("#pool-photos input[type=file]")[0].send_keys("\n".join(mine))
    page.wait(lambda: page.gallery_names("pool") == [Path(p).name for p in mine], 30, "only the uploads")
    page.wait(lambda: "Pooling 3 photos" in page.css("#pool-summary")[0].text, 60, "the uploads pooled alone")
    assert "median" in page.css("#pool-summary")[0].text
    page.screenshot("1400x1000-faces-your-photos")

    page.tab("Swap grid")  # two photos dropped onto the eight examples: a grid of the two, no labels left over
    page.wait(lambda: len(page.gallery_names("swap")) == 8, 30, "the swap examples")
    two = [p for person in face_photos(face_dir, 2, 1) for p in person]
    old_grid = page.image_src("#swap-grid")
    page.css("#swap-photos input[type=file]")[0].send_keys("\n".join(two))
    page.wait(lambda: page.gallery_names("swap") == [Path(p).name for p in two], 30, "only the two uploads")
    image = page.wait(lambda: [i for i in page.css("#swap-grid img") if i.get_attribute("src") != old_grid
                               and i.get_attribute("naturalWidth") not in (None, "0")], 90, "the grid of two")[0]
    assert int(image.get_attribute("naturalWidth")) == grid_size(3, 3, 64)[1]
    assert page.css("#swap-labels input, #swap-labels textarea")[0].get_attribute("value") == ""

    page.tab("Generate")  # a webcam frame replaces the examples too (the fake camera shows no face: said so)
    page.wait(lambda: len(page.gallery_names("generate")) == 3, 30, "the generate examples")
    page.click_button("#generate-photos", WEBCAM)
    page.click_button("#generate-photos", "Click to Access Webcam")
    page.wait(lambda: [v for v in page.css("#generate-photos video") if int(v.get_attribute("videoHeight") or 0)],
              20, "the webcam")
    page.click_button("#generate-photos", "capture photo")
    page.wait(lambda: len(page.gallery_names("generate")) == 1, 30, "the webcam frame alone")
    assert "no face found" in page.wait(lambda: shown(page, "#generate-notice"), 30, "the notice")


def test_an_empty_gallery_keeps_its_webcam_button_and_offers_images_only(server, browser):
    page = Page(browser, server, SCREENSHOTS)
    page.open(1400, 1000)
    page.tab("Interpolate")  # a gallery with photos: its source buttons have words, and no video recorder
    labels = [b.get_attribute("aria-label") or "" for b in page.css("#interp-a-photos button") if b.is_displayed()]
    assert WEBCAM in labels and not [x for x in labels if x.startswith("common.") or "video" in x.lower()], labels
    page.tab("Pool evidence")
    page.css("#pool-photos button[aria-label=Clear]")[0].click()
    assert "Add digits first" in page.wait(lambda: shown(page, "#pool-notice"), 30, "what to do")
    box = page.css("#pool-photos")[0].rect
    camera = page.wait(lambda: [b for b in page.css("#pool-photos button")
                                if b.get_attribute("aria-label") == "Capture from camera"], 10, "the camera button")[0]
    inside = box["y"] <= camera.rect["y"] and camera.rect["y"] + camera.rect["height"] <= box["y"] + box["height"]
    assert camera.is_displayed() and inside, f"the camera button {camera.rect} outside its gallery {box}"
    page.screenshot("1400x1000-digits-empty-gallery")
    sources = [b.get_attribute("aria-label") for b in page.css("#pool-photos .source-selection button")
               if b.is_displayed()]
    assert sources == ["Upload file", "Capture from camera", "Paste from clipboard"], sources
    camera.click()
    page.wait(lambda: [b for b in page.css("#pool-photos button") if "Access Webcam" in b.text], 10, "the webcam")
    page.resize(400, 900)
    time.sleep(0.5)
    page.screenshot("400x900-digits-empty-gallery")


def test_one_oversized_photo_is_named_and_the_others_kept(server, browser, face_dir, tmp_path):
    page = faces_page(server, browser)
    good = face_photos(face_dir, 1, 2)[0]
    big = tmp_path / "big.jpg"
    big.write_bytes(Path(good[0]).read_bytes() + bytes(17 << 20))  # a readable JPEG of 17 MB
    page.css("#pool-photos input[type=file]")[0].send_keys("\n".join([good[0], str(big), good[1]]))
    page.wait(lambda: len(page.gallery_names("pool")) == 3, 90, "all three files in the gallery")
    page.wait(lambda: "Pooling 2 photos" in page.css("#pool-summary")[0].text, 60, "the two good photos pooled")
    notice = page.wait(lambda: shown(page, "#pool-notice"), 30, "the notice")
    assert "big.jpg" in notice and "over the 16 MB" in notice


def test_every_click_shows_something(server, browser):
    page = Page(browser, server, SCREENSHOTS)
    page.open(1400, 1000)
    page.tab("Generate")  # Generate again: a new seed, new images
    page.wait(lambda: page.image_src("#gen-image"), 60, "the generated images")
    before, seed = page.image_src("#gen-image"), page.css("#gen-seed input")[0].get_attribute("value")
    page.css("#generate-button")[0].click()
    page.wait(lambda: page.image_src("#gen-image") not in ("", before), 60, "new images")
    assert page.css("#gen-seed input")[0].get_attribute("value") != seed, "the seed did not change"
    page.tab("Swap grid")  # labels without pooling: said
    page.wait(lambda: page.image_src("#swap-grid"), 60, "the swap grid")
    labels = page.css("#swap-labels input, #swap-labels textarea")[0]
    labels.clear()
    labels.send_keys("a a b b c c d d\n")
    assert "used only when" in page.wait(lambda: shown(page, "#swap-notice"), 30, "the hint on labels")
    page.tab("Pool evidence")  # Pool with nothing in the gallery: said
    page.css("#pool-photos button[aria-label=Clear]")[0].click()
    page.wait(lambda: not page.css("#pool-sheet img"), 30, "the cleared pool")
    next(b for b in page.css("button") if b.is_displayed() and b.text == "Pool").click()
    time.sleep(1)
    assert "Add digits first" in page.wait(lambda: shown(page, "#pool-notice"), 30, "the notice after Pool")


@pytest.fixture(scope="module")
def camera_browser(face_dir, tmp_path_factory):
    """Chromium whose fake camera plays 30 photos of one person, 4 a second, in a loop."""
    video = fake_camera_video(face_photos(face_dir, 1, 30)[0], tmp_path_factory.mktemp("camera") / "person.y4m")
    with chromium(f"--use-file-for-fake-video-capture={video}") as driver:
        yield driver


def test_live_pooling_from_a_fake_camera(server, camera_browser):
    """The pooled count grows at 2 frames a second or more, the variance falls, repeated views are skipped, the
    other tabs still answer meanwhile; stop and reset are one click each."""
    page = faces_page(server, camera_browser)
    page.start_live()
    page.wait(lambda: page.live_counts()[1] >= 2, 60,
              f"the first frames pooled (the page says: {page.css('#live-status')[0].text[:200]!r})")
    start, (_, first, first_variance) = time.monotonic(), page.live_counts()
    time.sleep(4)
    _, pooled, variance = page.live_counts()
    rate = (pooled - first) / (time.monotonic() - start)
    assert rate >= 2, f"{rate:.1f} frames pooled a second"
    assert variance < first_variance
    page.wait(lambda: page.css("#live-identity img") and page.css("#live-recent img"), 10, "the live images")
    page.screenshot("1400x1000-faces-live")

    page.tab("Swap grid")  # the other tabs answer while the stream runs
    asked = time.monotonic()
    old = page.image_src("#swap-grid")
    page.css("#swap-pooled input")[0].click()
    page.wait(lambda: page.image_src("#swap-grid") not in ("", old), 30, "the swap grid during the stream")
    swap_s = time.monotonic() - asked
    page.tab("Pool evidence")
    page.wait(lambda: page.live_counts()[0] > page.live_counts()[1] + 2, 30, "repeated views skipped")  # the 2nd loop
    page.resize(400, 900)
    time.sleep(1)
    page.screenshot("400x900-faces-live")
    page.resize(1400, 1000)

    page.click_button("#live-camera", "Stop")
    time.sleep(1.5)
    stopped = page.live_counts()[0]
    time.sleep(2)
    assert page.live_counts()[0] == stopped, "frames still arrive after Stop"
    page.css("#live-reset")[0].click()
    page.wait(lambda: "start the camera" in page.css("#live-status")[0].text, 10, "the reset status")
    assert not page.css("#live-identity img")
    print(f"live pooling: {rate:.1f} frames pooled a second; a swap grid during the stream in {swap_s:.1f} s")


def overlaps(a: dict, b: dict) -> bool:
    """True when two element rectangles overlap."""
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_results_are_large_enough_to_see_a_face_and_nothing_covers_them(server, browser):
    """At 1400 px a face of the pooling sheet is over 100 px; at 400 px the swap grid fits the screen (every column
    on it: its fullscreen button enlarges it), no result's buttons cover it, and no gallery's label is under its
    toolbar."""
    page = faces_page(server, browser)
    sheet = page.wait(lambda: [i for i in page.css("#pool-sheet img") if i.size["width"]], 60, "the sheet")[0]
    assert sheet.size["width"] / 5 > 100, f"pooling sheet shown at {sheet.size}"
    page.resize(400, 900)
    page.tab("Swap grid")
    grid = page.wait(lambda: [i for i in page.css("#swap-grid img") if i.size["width"]], 60, "the swap grid")[0]
    assert grid.rect["x"] >= 0 and grid.rect["x"] + grid.rect["width"] <= 400, f"swap grid shown at {grid.rect}"
    for key in ("swap-grid", "pool-sheet", "interp-grid", "gen-image"):
        images = [i for i in page.css(f"#{key} img") if i.size["width"]]
        for button in [b for b in page.css(f"#{key} button.icon-button") if b.size["width"]]:
            assert not any(overlaps(button.rect, i.rect) for i in images), f"{key}: a button over the result"
    for key in ("swap", "interp-a"):
        label = [x for x in page.css(f"#{key}-photos label[data-testid=block-label]") if x.size["width"]]
        tools = [t for t in page.css(f"#{key}-photos .icon-button-wrapper") if t.size["width"]]
        if label and tools:
            assert not overlaps(label[0].rect, tools[0].rect), f"{key}: the label under the toolbar"
    page.screenshot("400x900-faces-swap-grid")
    page.resize(1400, 1000)


def test_the_pad_draws_by_touch_and_its_tools_work(server, browser):
    """The plain-canvas pad: a finger draws, Undo takes the last stroke back, the eraser rubs out, Clear empties
    it, the brush size changes the line, and a drawing made by touch is added to the photos."""
    page = Page(browser, server, SCREENSHOTS)
    page.open(1400, 1000)
    page.tab("Pool evidence")
    page.wait(lambda: page.image_src("#pool-sheet"), 60, "the examples' result")
    next(b for b in page.css("button.label-wrap") if b.is_displayed() and "Draw a digit" in b.text).click()

    def tool(name: str) -> None:
        next(b for b in page.css("#pool-pad button") if b.is_displayed() and b.text == name).click()

    page.draw_digit("pool", [[(0, -60), (0, 60)]], touch=True)
    thin = page.pad_ink("pool")
    assert thin > 500, f"a finger's stroke left {thin} pixels of ink"
    page.draw_digit("pool", [[(-60, 0), (60, 0)]])
    assert page.pad_ink("pool") > thin
    tool("Undo")
    assert page.pad_ink("pool") == thin, "Undo did not take back the last stroke"
    tool("Eraser")
    page.draw_digit("pool", [[(0, -80), (0, 80)]])
    assert page.pad_ink("pool") < thin // 4, "the eraser did not rub the stroke out"
    tool("Eraser")  # the brush again
    page.draw_digit("pool", [[(-60, 0), (60, 0)]])
    tool("Clear")
    assert page.pad_ink("pool") == 0, "Clear left ink"
    page.driver.execute_script("const s = document.querySelector('#pool-pad .pad-size'); s.value = s.max;"
                               "s.dispatchEvent(new Event('input'))")
    page.draw_digit("pool", [[(0, -60), (0, 60)]], touch=True)
    assert page.pad_ink("pool") > 2 * thin, "the brush size did not change the line"
    next(b for b in page.css("button") if b.is_displayed() and b.text == "Add the drawing to the photos").click()
    page.wait(lambda: [n for n in page.gallery_names("pool") if n.startswith("drawing-")], 20, "the touch drawing")
    page.wait(lambda: page.pad_ink("pool") == 0, 10, "the pad emptied after Add")
    assert not [t for t in page.toasts() if "Draw a digit" in t], page.toasts()


def test_a_drawing_shows_at_once_and_is_pooled_once(server, browser):
    """Add the drawing: the thumbnail and the result come back in one computation of the tab (not two), timed."""
    page = Page(browser, server, SCREENSHOTS)
    page.open(1400, 1000)
    page.tab("Pool evidence")
    page.wait(lambda: page.image_src("#pool-sheet"), 60, "the examples' result")
    next(b for b in page.css("button.label-wrap") if b.is_displayed() and "Draw a digit" in b.text).click()
    page.draw_digit("pool", [[(0, -60), (0, 60)]])
    time.sleep(1)
    page.driver.execute_script("""
      performance.clearResourceTimings(); performance.setResourceTimingBufferSize(1000);
      window.t0 = null; window.thumb = null; window.result = null;
      document.addEventListener('click', e => {  // timed from the click itself, not from the WebDriver calls
        if (window.t0 === null && e.target.closest('button')?.textContent.includes('Add the drawing'))
          window.t0 = performance.now();
      }, true);
      const old = document.querySelector('#pool-sheet img').src;
      const timer = setInterval(() => {
        const names = [...document.querySelectorAll('#pool-photos .thumbnail-item img')].map(i => i.src);
        if (window.t0 === null) return;
        if (window.thumb === null && names.length === 1 && names[0].includes('drawing-'))
          window.thumb = performance.now() - window.t0;
        const src = (document.querySelector('#pool-sheet img') || {}).src;
        if (window.result === null && src && src !== old) window.result = performance.now() - window.t0;
        if (window.thumb !== null && window.result !== null) clearInterval(timer);
      }, 5);""")
    next(b for b in page.css("button") if b.is_displayed() and b.text == "Add the drawing to the photos").click()
    page.wait(lambda: page.driver.execute_script("return window.thumb !== null && window.result !== null"), 30,
              "the drawing and its result")
    time.sleep(3)  # any second computation would have started by now
    thumb, result, calls, uploads, inked = page.driver.execute_script("""
      const names = performance.getEntriesByType('resource').map(e => e.name);
      const pad = document.querySelector('#pool-pad canvas'), pixels = pad.getContext('2d').getImageData(0, 0,
        pad.width, pad.height).data;
      return [window.t0 === null ? null : window.thumb, window.result, names.filter(n => n.includes('/queue/join'))
        .length, names.filter(n => n.includes('/upload')).length, pixels.some(v => v < 255)]""")
    assert calls == 2, f"{calls} queued calls for one drawing (the add, then one update of the tab)"
    assert uploads == 0, f"{uploads} uploads for one drawing: the pad sends its drawing with the event"
    assert not inked, "the pad was not emptied after its drawing was added"
    # (the times depend on what else the 2 cores run: a bound that holds on a busy machine, the figures printed)
    assert thumb < 10_000 and result < 15_000, f"thumbnail after {thumb:.0f} ms, result after {result:.0f} ms"
    print(f"drawing: thumbnail after {thumb:.0f} ms, result after {result:.0f} ms (from the click on Add)")


# ---- the webcam with realistic frames, and live pooling for every visitor (issue 34) -----------------------
CAMERAS = {"640x480": (640, 480), "1280x720": (1280, 720)}  # a laptop's camera, an HD one


@pytest.fixture(scope="module")
def live_people(face_dir) -> list[list[str]]:
    """8 different photos each of two people, a face found in each as a webcam frame."""
    return distinct_face_photos(face_dir, 2)


@pytest.fixture(scope="module")
def live_browsers(live_people, tmp_path_factory):
    """Two Chromiums whose fake cameras play photo-like frames of one person each (made here from the real photos,
    never saved in the repository): 640x480 and 1280x720, each of the 8 photos for a second (4 frames), looped."""
    folder = tmp_path_factory.mktemp("cameras")
    with contextlib.ExitStack() as stack:
        drivers = {}
        for (name, (width, height)), photos in zip(CAMERAS.items(), live_people, strict=True):
            video = fake_camera_video(photos, folder / f"{name}.y4m", width, height, fps=4, photo_like=True, repeat=4)
            drivers[name] = stack.enter_context(chromium(f"--use-file-for-fake-video-capture={video}"))
        yield drivers


def live_page(server: str, driver) -> Page:
    """The faces model's Pool tab with the live camera open (not streaming yet), its pool empty."""
    page = faces_page(server, driver)
    page.click_button("#live-camera", "Click to Access Webcam")
    page.wait(lambda: [v for v in page.css("#live-camera video") if int(v.get_attribute("videoHeight") or 0)], 30,
              "the camera's picture")
    return page


def frames_counted(page: Page, after: int, timeout: float, what: str) -> int:
    """Wait until the live status counts more than ``after`` frames seen; the count."""
    return page.wait(lambda: page.live_counts()[0] > after and page.live_counts()[0], timeout,
                     f"{what} (the status says: {page.css('#live-status')[0].text[:160]!r})")


@pytest.mark.parametrize("camera", list(CAMERAS))
def test_the_webcam_records_stops_and_resets_ten_times_in_a_row(server, live_browsers, camera):
    """Record, Stop, Record again and Reset, ten times: every Record streams (frames of a real camera's size pass
    the request limits), every Stop stops, every Reset empties the pool."""
    page = live_page(server, live_browsers[camera])
    size = page.driver.execute_script("const v = document.querySelector('#live-camera video');"
                                      "return [v.videoWidth, v.videoHeight]")
    assert tuple(size) == CAMERAS[camera], f"the camera plays {size}"
    for cycle in range(1, 11):
        page.record_live()
        seen = frames_counted(page, 0, 20, f"cycle {cycle}: frames after Record")
        page.stop_live()
        time.sleep(1)
        stopped = page.live_counts()[0]
        time.sleep(1)
        assert page.live_counts()[0] == stopped, f"cycle {cycle}: frames still counted after Stop"
        page.record_live()
        frames_counted(page, max(seen, stopped), 20, f"cycle {cycle}: frames after Record again")
        page.stop_live()
        page.css("#live-reset")[0].click()
        page.wait(lambda: "start the camera" in page.css("#live-status")[0].text, 10, f"cycle {cycle}: the reset")
        page.wait(lambda: not page.css("#live-identity img"), 10, f"cycle {cycle}: the pooled identity cleared")
    assert not [t for t in page.toasts() if "characters" in t or "request" in t], page.toasts()
    page.screenshot(f"1400x1000-faces-live-{camera}")


def test_eight_different_photos_on_the_camera_are_all_pooled(server, live_browsers):
    """A slideshow of 8 different photos of one person: all 8 pooled, and once they are, the repeats skipped (the
    gate lets through the 2-5% of repeats whose alignment jumps, benchmarks/live_gate.py: one at most here)."""
    page = live_page(server, live_browsers["640x480"])
    page.css("#live-reset")[0].click()
    page.record_live()
    page.wait(lambda: page.live_counts()[1] >= 8, 60, f"8 photos pooled (status: {page.css('#live-status')[0].text!r})")
    seen = page.live_counts()[0]
    frames_counted(page, seen + 16, 40, "two more loops of the slideshow")  # 8 s a loop, 2+ frames a second
    seen, pooled, _ = page.live_counts()
    assert 8 <= pooled <= 9, f"{pooled} frames pooled of a slideshow of 8 different photos, after {seen} frames"
    status = page.css("#live-status")[0].text
    assert "skipped, like a frame already pooled" in status and "turn or tilt your head" in status, status
    page.screenshot("1400x1000-faces-live-eight-photos")
    page.stop_live()


SENT_FRAMES = ("performance.setResourceTimingBufferSize(100000); return performance.getEntriesByType('resource')"
               ".filter(e => e.name.includes('/gradio_api/stream/') && !e.name.endsWith('/close')).length")


def live_rate(pages: list[Page], seconds: float) -> list[tuple[float, float]]:
    """(frames processed, frames sent) a second for each page: processed as its status counts them (seen: aligned,
    encoded, then pooled or skipped), sent as its browser posted them to the stream."""
    start = time.monotonic()
    before = [(page.live_counts()[0], page.driver.execute_script(SENT_FRAMES)) for page in pages]
    time.sleep(seconds)
    after = [(page.live_counts()[0], page.driver.execute_script(SENT_FRAMES)) for page in pages]
    took = time.monotonic() - start
    return [((b[0] - a[0]) / took, (b[1] - a[1]) / took) for a, b in zip(before, after, strict=True)]


def test_two_sessions_pool_live_at_once(server, live_browsers):
    """Two visitors stream at the same time: each has its own pool, the second starts while the first streams, and
    each gets 2 frames a second or more processed (aligned, encoded, then pooled or skipped), or, when its browser
    sends fewer than 2.5 (the 2 cores also run both browsers, whose cameras encode every frame as a JPEG), 80% of
    the frames it sends: the server keeps up with each session, neither waits for the other."""
    small, large = (live_page(server, live_browsers[name]) for name in CAMERAS)
    for page in (small, large):
        page.css("#live-reset")[0].click()
    large.record_live()
    frames_counted(large, 2, 30, "the 1280x720 session streaming")
    asked = time.monotonic()
    small.record_live()
    frames_counted(small, 0, 20, "the 640x480 session's first frame while the other streams")
    waited = time.monotonic() - asked
    rates = live_rate([small, large], 10)
    pooled = [page.live_counts()[1] for page in (small, large)]
    for page in (small, large):
        page.stop_live()
    said = [f"{name} {done:.1f} frames processed a second of {sent:.1f} sent" for name, (done, sent) in
            zip(CAMERAS, rates, strict=True)]
    print(f"live, two sessions at once: {'; '.join(said)}; the second's first frame {waited:.1f} s after its Record;"
          f" pooled {pooled}")
    assert waited < 10, f"the second session's first frame after {waited:.1f} s"
    for name, (done, sent) in zip(CAMERAS, rates, strict=True):
        assert done >= 2 or (sent < 2.5 and done >= 0.8 * sent), \
            f"{name}: {done:.1f} frames processed a second of the {sent:.1f} its browser sent"
    assert all(1 <= p <= 9 for p in pooled), f"each session pools its own person's photos: {pooled}"


# ---- what a new user tripped over, fourth round (issue 34) ---------------------------------------------------
SHOWN = """
const out = {};
for (const key of arguments[0]) {
  const root = document.querySelector('#' + key), img = root && root.querySelector('img');
  if (!img || !img.naturalWidth || !img.getBoundingClientRect().width) { out[key] = null; continue; }
  const b = root.getBoundingClientRect(), r = img.getBoundingClientRect();
  const scale = Math.min(r.width / img.naturalWidth, r.height / img.naturalHeight);  // object-fit: contain
  const w = img.naturalWidth * scale, h = img.naturalHeight * scale;
  const left = r.left + (r.width - w) / 2, top = r.top + (r.height - h) / 2;
  out[key] = {box: [b.left, b.top, b.right, b.bottom], drawn: [left, top, left + w, top + h],
              screen: document.documentElement.clientWidth};
}
return out;"""
RESULTS_OF_TABS = {"Pool evidence": ["pool-sheet", "pool-fresh"], "Interpolate": ["interp-image", "interp-grid"],
                   "Swap grid": ["swap-grid"], "Generate": ["gen-image"], "About": ["about-picture"]}


def assert_shown_whole(page: Page, label: str) -> None:
    """Every result picture of every tab drawn whole inside its box (nothing cut at its edges) and on the screen:
    the rendered image's size and place against its box's."""
    for tab, keys in RESULTS_OF_TABS.items():
        page.tab(tab)
        page.wait(lambda keys=keys: all(page.driver.execute_script(SHOWN, keys).values()), 60, f"{label}: {keys}")
        time.sleep(0.3)
        for key, m in page.driver.execute_script(SHOWN, keys).items():
            (bl, bt, br, bb), (dl, dt, dr, db) = m["box"], m["drawn"]
            assert bl - 1 <= dl and bt - 1 <= dt and dr <= br + 1 and db <= bb + 1, \
                f"{label}: {key} drawn at {[round(v) for v in m['drawn']]}, its box {[round(v) for v in m['box']]}"
            assert 0 <= dl + 1 and dr <= m["screen"] + 1, f"{label}: {key} drawn past the screen's edge"
        page.screenshot(f"{label}-whole-{tab.lower().replace(' ', '-')}")


def test_result_pictures_are_shown_whole_on_desktop_and_phone(server, browser):
    page = faces_page(server, browser)
    assert_shown_whole(page, "1400x1000")
    page.resize(400, 900)
    time.sleep(0.5)
    assert_shown_whole(page, "400x900")
    # the phone's first screen: the upload area near the top, not a screen of text further down
    page.tab("Pool evidence")
    page.driver.execute_script("window.scrollTo(0, 0)")
    gallery = page.css("#pool-photos")[0].rect
    assert gallery["y"] + 120 <= 900, f"the photos' gallery starts at y = {gallery['y']:.0f} on a 900 px screen"
    page.screenshot("400x900-first-screen")
    page.resize(1400, 1000)


def thumbnails(page: Page, key: str) -> list[dict]:
    """Each thumbnail of a gallery: its file name, whether it is marked refused, and its rectangle."""
    return page.driver.execute_script("""
      return [...document.querySelectorAll(`#${arguments[0]}-photos .thumbnail-item`)].map(item => {
        const media = item.querySelector('img, video'), r = item.getBoundingClientRect();
        return {name: decodeURIComponent((media?.getAttribute('src') || '').split('/').pop()),
                refused: item.classList.contains('refused'), rect: {x: r.x, y: r.y, width: r.width, height: r.height}};
      })""", key)


def test_many_photos_and_bad_files_a_roomy_gallery_and_the_newest_problem_said(server, browser, face_dir,
                                                                              bad_files, tmp_path):
    """12 photos and 5 unusable files: the gallery shows them without a small scrolling box and its toolbar covers
    none; the refused files are marked refused in the gallery; a bad file added next gets its own message."""
    page = faces_page(server, browser)
    good = [p for person in face_photos(face_dir, 2, 6) for p in person]
    blank = []
    for k in range(4):
        blank.append(tmp_path / f"no-face-{k}.png")
        Image.new("RGB", (300 + k, 300), (120, 120, 120)).save(blank[-1])
    sent = good + [str(bad_files["text.jpg"])] + [str(b) for b in blank]
    page.css("#pool-photos input[type=file]")[0].send_keys("\n".join(sent))
    page.wait(lambda: len(page.gallery_names("pool")) == len(sent), 90, "every file in the gallery")
    page.wait(lambda: "Pooling 12 photos" in page.css("#pool-summary")[0].text, 120, "the 12 photos pooled")
    marked = page.wait(lambda: {t["name"] for t in thumbnails(page, "pool") if t["refused"]} ==
                       {"text.jpg", *[b.name for b in blank]} and thumbnails(page, "pool"), 20,
                       f"the refused files marked ({thumbnails(page, 'pool')})")
    wrap = page.driver.execute_script("const w = document.querySelector('#pool-photos .grid-wrap');"
                                      "return [w.scrollHeight, w.clientHeight]")
    assert wrap[0] <= wrap[1] + 2, f"17 photos in a scrolling box: {wrap}"
    for key in ("pool",):
        tools = [t.rect for t in page.css(f"#{key}-photos .icon-button-wrapper") if t.size["width"]]
        for thumb in marked:
            assert not any(overlaps(tool, thumb["rect"]) for tool in tools), f"the toolbar over {thumb['name']}"
    page.screenshot("1400x1000-faces-many-photos")
    newest = tmp_path / "the-newest.png"
    Image.new("RGB", (320, 300), (90, 90, 90)).save(newest)
    page.css("#pool-photos input[type=file]")[0].send_keys(str(newest))
    notice = page.wait(lambda: "the-newest.png" in shown(page, "#pool-notice") and shown(page, "#pool-notice"), 90,
                       "the newest file's own message")
    assert "the-newest.png: no face found" in notice, notice
    assert notice.index("the-newest.png") < notice.index("could not be used") if "could not be used" in notice \
        else True, notice


def test_about_is_short_plain_and_shows_a_decoded_picture_and_tables_unsquashed(server, browser):
    page = faces_page(server, browser)
    page.tab("About")
    plain = page.wait(lambda: [e for e in page.css("#about-model") if e.is_displayed()], 20, "the explanation")[0]
    text = plain.text
    assert plain.size["height"] < 900, f"the explanation is {plain.size['height']} px tall"
    for words in ("content", "style", "pose", "light", "expression", "skin tone", "model card"):
        assert words in text, words
    for jargon in ("posterior", "precisions", "likelihood", "supplement", "§"):
        assert jargon not in text, jargon
    picture = page.wait(lambda: page.css("#about-picture img"), 20, "the picture")[0]
    assert picture.get_attribute("src").rsplit("/", 1)[-1] not in {p.name for p in REPO.glob("checkpoints/*/*")}
    next(b for b in page.css("button.label-wrap") if b.is_displayed() and "The model in detail" in b.text).click()
    page.wait(lambda: [t for t in page.css("#about-card table") if t.is_displayed()], 20, "the card's tables")
    broken = page.driver.execute_script("""  // a heading, or a cell of one word, over more than one line
      return [...document.querySelectorAll('#about-card th, #about-card td')].filter(cell => {
        if (cell.tagName === 'TD' && /\\s/.test(cell.innerText.trim())) return false;
        const range = document.createRange(); range.selectNodeContents(cell);
        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
      }).map(cell => cell.innerText).slice(0, 5)""")
    assert not broken, f"words broken over lines in the card's tables: {broken}"
    page.screenshot("1400x1000-faces-about")


def test_interpolating_your_photo_toward_an_example_says_so(server, browser, face_dir):
    """Only A uploaded: B is still the example face, and the tab says so (it used to interpolate toward it quietly)."""
    page = faces_page(server, browser)
    page.tab("Interpolate")
    page.wait(lambda: len(page.gallery_names("interp-b")) == 2, 30, "B's examples")
    page.css("#interp-a-photos input[type=file]")[0].send_keys(face_photos(face_dir, 1, 1)[0][0])
    notice = page.wait(lambda: shown(page, "#interpolate-notice"), 60, "the notice")
    assert "B is still the example the model decoded itself" in notice and "add your own photo to B" in notice, notice
