"""The real demo app, started on a free local port, driven through gradio_client and headless Chromium.

Models: the shipped checkpoints/mnist and checkpoints/faces when present, otherwise tiny ones trained on
real MNIST and real CelebA photos (conftest.py). Inputs are real MNIST digits and real face photos from $MLVAE_DATA_DIR
(read in place, or written to a tmp dir when altered; never into the repository).
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mlvae.checkpoint import SHIPPED_DIR

from demo.sheets import GAP, display_scale
from tests.demo_server import REPO, face_photos, gallery, load, running_app

SCREENSHOTS = REPO / "test-output" / "screenshots"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


# ---- server, inputs (models and face photos: tests/conftest.py) --------------------------------------------
@pytest.fixture(scope="session")
def server(model_args, tmp_path_factory):
    """The real app (``python app.py``) in a subprocess; yields its URL."""
    try:
        with running_app(model_args, tmp_path_factory.mktemp("app") / "app.log") as url:
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
    assert fresh.shape[:2] == sheet_size(1, 8, size)
    alone = np.stack([tile(sheet, 1, c, size) for c in range(5)])
    pooled = np.stack([tile(sheet, 2, c, size) for c in range(5)])
    assert np.abs(alone - pooled).max() >= 3, "pooling the content must change the reconstructions"
    pooled_curve = [row[1] for row in chart["data"]]
    assert len(pooled_curve) == 5 and all(b < a for a, b in zip(pooled_curve, pooled_curve[1:]))
    assert "Pooling 5 photos" in summary


@pytest.mark.parametrize("name", list(MODELS))
def test_interpolation_ends_match_the_grid_corners(client, name, digit_files, face_dir):
    size = MODELS[name]
    if name == "mnist":
        a, b = digit_files[2][:2], digit_files[7][:1]
    else:
        a, b = face_photos(face_dir, 2, 2)
    image_path, grid_path = client.predict(name, gallery(a), gallery(b), 0.0, 0.0, api_name="/interpolate")
    grid = load(grid_path)
    assert grid.shape[:2] == sheet_size(7, 7, size)
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
    assert plain.shape[:2] == pooled.shape[:2] == sheet_size(9, 9, size)  # inputs on top and left
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
    assert swap.shape[:2] == sheet_size(9, 9, 28)  # the first 8 of 50


# ---- the page in headless Chromium ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            pytest.fail(f"{path} is missing: install Debian's chromium and chromium-driver "
                        "(apt-get install -y chromium chromium-driver; .ci/run does)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="mlvae-chromium-")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1500"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_page_in_chromium_uploads_photos_and_shows_the_swap_grid(server, browser, face_dir):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    css = lambda selector: browser.find_elements(By.CSS_SELECTOR, selector)  # noqa: E731
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.get(server)
    WebDriverWait(browser, 120).until(lambda _: css("#pool-sheet img"))  # the examples, computed on load
    tabs = {button.text: button for button in css("button[role=tab]")}
    assert list(tabs) == ["Pool evidence", "Interpolate", "Swap grid", "Generate", "About"]
    for i, name in enumerate(tabs):
        css("button[role=tab]")[i].click()
        time.sleep(1.0)
        if name == "Swap grid":
            WebDriverWait(browser, 60).until(lambda _: css("#swap-grid img"))
        browser.save_screenshot(str(SCREENSHOTS / f"{i + 1}-{name.lower().replace(' ', '-')}.png"))

    css("button[role=tab]")[2].click()
    WebDriverWait(browser, 60).until(lambda _: css("#swap-grid img"))
    css("#swap-photos button[aria-label=Clear]")[0].click()
    WebDriverWait(browser, 60).until(lambda _: not css("#swap-grid img"))
    photos = [p for person in face_photos(face_dir, 3, 1) for p in person]
    css("#swap-photos input[type=file]")[0].send_keys("\n".join(photos))
    WebDriverWait(browser, 90).until(lambda _: css("#swap-grid img"))
    image = css("#swap-grid img")[0]
    WebDriverWait(browser, 30).until(lambda _: image.get_attribute("naturalWidth") not in (None, "0"))
    assert int(image.get_attribute("naturalWidth")) == sheet_size(4, 4, 64)[1]  # 3 photos + the header
    browser.save_screenshot(str(SCREENSHOTS / "6-swap-grid-uploaded.png"))
