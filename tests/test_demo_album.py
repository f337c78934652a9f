"""The Album tab: its corrections as functions, its API endpoint through gradio_client against the real app, and the
tab in headless Chromium with real photos of people the shipped faces model never saw."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image

from demo.computing.album import (
    UNUSED,
    AlbumEndpoints,
    format_labels,
    merged,
    moved,
    number,
    parse_labels,
)
from mlvae import DataError
from mlvae.checkpoint.folder import SHIPPED_DIR
from mlvae.grouping import adjusted_rand_index
from tests.demo_page import Page, chromium
from tests.demo_server import REPO, gallery, running_app

SCREENSHOTS = REPO / "test-output" / "screenshots"


# ---- the grouping's labels and corrections (no model) ----------------------------------------------------------
def test_labels_read_and_written_one_number_per_photo_given():
    assert parse_labels("1 1 2 - 3", 5) == [0, 0, 1, None, 2]
    assert parse_labels("1 1 2", 5) is None and parse_labels("", 2) is None  # does not fit: grouped anew
    with pytest.raises(DataError, match="not a group number"):
        parse_labels("1 x", 2)
    assert format_labels([2, 2, None, 0, 5]) == f"1 1 {UNUSED} 2 3"  # renumbered in order of appearance


def test_corrections_move_merge_and_refuse_groups_that_do_not_exist():
    assert moved([0, 0, 1], 1, 1) == [0, 1, 1]
    assert moved([0, 0, 1], 0, 2) == [2, 0, 1]  # one past the last: a new group
    assert merged([0, 1, 2, 1], 0, 1) == [0, 0, 2, 0]
    with pytest.raises(DataError, match="no group 5"):
        moved([0, 0, 1], 0, 4)
    with pytest.raises(DataError, match="no group 4"):
        merged([0, 1, 2], 0, 3)
    for hostile in (None, "", "1e9", "x", float("nan"), float("inf"), True, 2.5, [1]):
        with pytest.raises(DataError, match="by its number"):
            number(hostile, "the group")
    assert number("3", "the group") == 2 and number(3.0, "the group") == 2


def test_a_group_and_the_grouping_go_to_pool_and_swap_as_their_paths_and_labels():
    album = AlbumEndpoints(endpoints=None)  # these two read no photo and call no model
    paths = [f"/up/{name}.png" for name in "abcdefghij"]
    labels = "1 2 1 3 2 1 4 5 - 1"
    assert album.group_paths("m", paths, labels, 1) == ["/up/a.png", "/up/c.png", "/up/f.png", "/up/j.png"]
    chosen, names = album.swap_inputs(paths, labels)
    assert chosen == ["/up/a.png", "/up/c.png", "/up/b.png", "/up/e.png", "/up/d.png", "/up/g.png", "/up/h.png"]
    assert names == "1 1 2 2 3 4 5"
    with pytest.raises(DataError, match="group the album first"):
        album.group_paths("m", paths, "1 2", 1)
    with pytest.raises(DataError, match="no group 9"):
        album.group_paths("m", paths, labels, 9)


# ---- the real app --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(model_args, tmp_path_factory):
    """The real app (``python app.py``) in a subprocess; yields its URL."""
    gradio_temp = tmp_path_factory.mktemp("album-gradio")
    with running_app(model_args, tmp_path_factory.mktemp("album-app") / "app.log",
                     env={"GRADIO_TEMP_DIR": str(gradio_temp)}) as url:
        yield url


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


@pytest.fixture(scope="module")
def unseen_people(shared_data) -> list[list[str]]:
    """Five photos (in which a face is found) of each of four people of the shipped faces model's test split."""
    from mlvae.data.faces import NoFaceError, align_face

    split = SHIPPED_DIR / "faces" / "split.json"
    if not split.is_file():
        pytest.skip("the shipped faces checkpoint is not in this checkout: its test people are the unseen ones")
    people = []
    for group in json.loads(split.read_text())["groups"]["test"]:
        kept = []
        for photo in sorted((shared_data / group).iterdir()):
            try:
                align_face(Image.open(photo).convert("RGB"), 64)
            except NoFaceError:
                continue
            kept.append(str(photo))
            if len(kept) == 5:
                people.append(kept)
                break
        if len(people) == 4:
            return people
    raise AssertionError("fewer than 4 test people with 5 photos in which a face is found")


def mixed(people: list[list[str]], seed: int = 0) -> tuple[list[str], list[int]]:
    """The photos of ``people`` shuffled into one album, and whose each is."""
    album = [(photo, person) for person, photos in enumerate(people) for photo in photos]
    random.Random(seed).shuffle(album)
    return [photo for photo, _ in album], [person for _, person in album]


def test_album_endpoint_returns_every_photo_once_with_confidences_and_a_count_asked_for(client, unseen_people):
    from gradio_client.exceptions import AppError

    paths, truth = mixed(unseen_people)
    sheet, groups, labels, summary = client.predict("faces", gallery(paths), 0, api_name="/album")
    placed = sorted(p for g in groups for p in g["photos"])
    assert placed == list(range(1, len(paths) + 1))
    assert all(0 <= c <= 1 for g in groups for c in g["confidence"])
    found = [0] * len(paths)
    for g in groups:
        for p in g["photos"]:
            found[p - 1] = g["group"]
    assert labels == " ".join(map(str, found)) and f"{len(groups)} group" in summary
    assert Image.open(sheet).height > 64 * len(groups)  # a row per group
    print(f"faces, 4 unseen people x 5: {len(groups)} groups, ARI {adjusted_rand_index(truth, found):.2f}")
    _, four, _, _ = client.predict("faces", gallery(paths), 4, api_name="/album")
    assert len(four) == 4
    with pytest.raises(AppError, match="needs a photo"):
        client.predict("faces", [], 0, api_name="/album")
    with pytest.raises(AppError, match="number of groups"):
        client.predict("faces", gallery(paths[:2]), -3, api_name="/album")


def test_album_endpoint_groups_real_test_digits(client, digit_album):
    paths, truth = digit_album
    _, groups, labels, _ = client.predict("mnist", gallery(paths), 0, api_name="/album")
    found = [int(x) for x in labels.split()]
    ari = adjusted_rand_index(truth, found)
    print(f"digits, 3 classes x 6: {len(groups)} groups, ARI {ari:.2f}")
    assert ari > 0.5  # three digits a model of 93% single-image accuracy tells apart


def test_album_endpoint_takes_more_photos_than_any_other_gallery(client, large_digit_album):
    from demo.computing.computations import MAX_ALBUM, MAX_GROUP

    paths, truth = large_digit_album
    assert MAX_GROUP < len(paths) <= MAX_ALBUM
    _, groups, labels, summary = client.predict("mnist", gallery(paths), 0, api_name="/album")
    assert sorted(p for g in groups for p in g["photos"]) == list(range(1, len(paths) + 1))
    found = [int(x) for x in labels.split()]
    ari = adjusted_rand_index(truth, found)
    print(f"digits, 10 classes x 12: {len(groups)} groups, ARI {ari:.2f}")
    assert ari > 0.5 and f"{len(groups)} group" in summary  # 10 digits: 0.69 on average (docs/album.md)


def digit_files(mnist_splits, folder: Path, digits: tuple[int, ...], each: int,
                seed: int) -> tuple[list[str], list[int]]:
    """``each`` real MNIST test images of every digit of ``digits``, as PNG files in ``folder``, shuffled."""
    test = mnist_splits.test
    people = []
    for digit in digits:
        files = []
        for n, index in enumerate((test.groups == digit).nonzero().flatten()[:each].tolist()):
            path = folder / f"digit-{digit}-{n}.png"
            Image.fromarray(test.images[index, 0].numpy()).save(path)
            files.append(str(path))
        people.append(files)
    return mixed(people, seed=seed)


@pytest.fixture(scope="module")
def digit_album(mnist_splits, tmp_path_factory) -> tuple[list[str], list[int]]:
    """Six real MNIST test images each of digits 0, 1 and 7, as PNG files, shuffled."""
    return digit_files(mnist_splits, tmp_path_factory.mktemp("album-digits"), (0, 1, 7), 6, seed=1)


@pytest.fixture(scope="module")
def large_digit_album(mnist_splits, tmp_path_factory) -> tuple[list[str], list[int]]:
    """Twelve real MNIST test images of each digit (120: more than the other galleries' 64), shuffled."""
    return digit_files(mnist_splits, tmp_path_factory.mktemp("album-digits-120"), tuple(range(10)), 12, seed=2)


def test_the_request_budget_pays_for_an_album_of_200_typical_photos(shared_data):
    """200 real face photos of unseen people (CelebA / LFW sized) read for an aligning model: none left out."""
    from demo.computing.computations import MAX_ALBUM
    from demo.inputs.photos import read_photos
    from demo.inputs.preparation import Preparation
    from demo.inputs.prepared_cache import clear_cache

    split = SHIPPED_DIR / "faces" / "split.json"
    if not split.is_file():
        pytest.skip("the shipped faces checkpoint is not in this checkout: its test people are the unseen ones")
    groups = json.loads(split.read_text())["groups"]["test"]
    paths = [str(photo) for group in groups for photo in sorted((shared_data / group).iterdir())][:MAX_ALBUM]
    assert len(paths) == MAX_ALBUM
    clear_cache()  # every photo decoded and searched for a face: nothing paid for by an earlier test
    read = read_photos(paths, Preparation(64, 3, 0.8, align_faces=True))
    assert not [p for p in read.problems if "left out" in p], read.problems[:3]
    assert len(read) >= 0.9 * MAX_ALBUM, read.problems[:3]  # a face found in nearly every one


@pytest.fixture(scope="module")
def browser():
    with chromium() as driver:
        yield driver


def labels_shown(page: Page) -> str:
    return page.css("#album-labels input, #album-labels textarea")[0].get_attribute("value") or ""


def set_number(page: Page, key: str, value: int) -> None:
    field = page.css(f"#{key} input[type=number]")[0]
    field.clear()
    field.send_keys(str(value))


def test_album_tab_in_chromium_groups_corrects_and_sends_a_group_to_pool(server, browser, unseen_people):
    page = Page(browser, server, SCREENSHOTS)
    page.open(1400, 1000)
    page.select_model("faces (64x64 colour)")
    page.tab("Album")
    page.wait(lambda: page.css("#album-sheet img"), 90, "the examples' grouping")
    paths, _ = mixed([people[:3] for people in unseen_people[:3]])
    page.css("#album-photos input[type=file]")[0].send_keys("\n".join(paths))
    page.wait(lambda: page.gallery_names("album") == [Path(p).name for p in paths], 30, "the album uploaded")
    first = page.wait(lambda: (lambda t: t if len(t.split()) == len(paths) else None)(labels_shown(page)), 90,
                      "the album grouped")
    page.wait(lambda: [i for i in page.css("#album-sheet img") if i.get_attribute("naturalWidth") not in (None, "0")],
              30, "the sheet shown")
    page.screenshot("1400x1000-album-grouped")
    groups = [int(x) for x in first.split()]
    # move photo 1 into photo 2's group (or, when they share one, into a new group of its own): the labels and the
    # sheet are redrawn
    together = groups[0] == groups[1]
    sheet = page.image_src("#album-sheet")
    set_number(page, "album-photo", 1)
    set_number(page, "album-target", max(groups) + 1 if together else groups[1])
    page.css("#album-move")[0].click()
    moved_labels = page.wait(lambda: (lambda t: t if t and t != first else None)(labels_shown(page)), 60,
                             "the corrected grouping")
    after = [int(x) for x in moved_labels.split()]
    assert after[0] not in after[1:] if together else after[0] == after[1]
    page.wait(lambda: page.image_src("#album-sheet") != sheet, 30, "the sheet redrawn")
    # send photo 1's group to Pool: the Pool tab opens with that group's photos and pools them
    set_number(page, "album-chosen", after[0])
    page.css("#album-to-pool")[0].click()
    expected = [Path(p).name for p, label in zip(paths, after, strict=True) if label == after[0]]
    page.wait(lambda: page.gallery_names("pool") == expected, 30, "the group in Pool's gallery")
    page.wait(lambda: page.css("button[role=tab][aria-selected=true]")[0].text == "Pool evidence", 10, "Pool shown")
    page.wait(lambda: f"{len(expected)} photo" in page.css("#pool-summary")[0].text.replace("One photo", "1 photo"),
              60, "the group pooled")
    page.screenshot("1400x1000-album-sent-to-pool")


def test_about_says_what_album_mode_does_and_which_grouping_the_checkpoint_chose(tmp_path):
    from types import SimpleNamespace

    from demo.computing.model_description import album_mode
    from demo.kinds import DIGITS
    from mlvae.grouping import AlbumSettings

    m = SimpleNamespace(kind=DIGITS, folder=tmp_path)
    assert "untuned" in album_mode(m) and "one content" in album_mode(m)
    AlbumSettings("evidence", 3.0, 30, "10 groups x 20 images").write(tmp_path)
    text = album_mode(m)
    assert "temperature 3" in text and "30 albums of **training** digits" in text and "untuned" not in text
