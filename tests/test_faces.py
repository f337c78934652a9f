"""Face alignment, its cache, and the identity judge, on real CelebA and LFW photos."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mlvae.data.faces import AlignmentCache, NoFaceError, align_face
from mlvae.data.images import image_to_tensor, open_image, to_model_mode
from mlvae.evaluation.identity import embed_faces, nearest_person, references

CELEBA, LFW = "faces-celeba200", "faces-lfw"


def photos(shared_data: Path, source: str, people: int, per_person: int, min_photos: int = 0) -> list[list[Path]]:
    """The first ``per_person`` photos of the first ``people`` people having at least ``min_photos``."""
    folders = sorted(p for p in (shared_data / source).iterdir() if p.is_dir())
    chosen = []
    for folder in folders:
        files = sorted(folder.glob("*.jpg"))
        if len(files) >= max(min_photos, per_person):
            chosen.append(files[:per_person])
        if len(chosen) == people:
            return chosen
    pytest.fail(f"{source} has too few people with {per_person} photos")


def eye_centres(image: Image.Image) -> np.ndarray:
    """Both eyes' centres (2, 2) in an aligned face, from the 5-point landmarks fitted on it, in its pixels."""
    import dlib

    from mlvae.data.faces import _dlib_models

    _, _, predictor = _dlib_models()
    big = np.asarray(image.resize((256, 256), Image.Resampling.BICUBIC))
    shape = predictor(big, dlib.rectangle(0, 0, 255, 255))
    points = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)
    return np.stack([points[0:2].mean(0), points[2:4].mean(0)]) * image.width / 256


def test_celeba_and_lfw_faces_come_out_in_one_framing(shared_data):
    centres = []
    for source in (CELEBA, LFW):
        for person in photos(shared_data, source, people=6, per_person=2):
            for path in person:
                face = align_face(to_model_mode(open_image(path), 3), 64, path.name)
                assert face.image.size == (64, 64) and face.faces_found >= 1
                centres.append((source, eye_centres(face.image)))
    by_source = {s: np.stack([c for src, c in centres if src == s]) for s in (CELEBA, LFW)}
    for eyes in by_source.values():
        assert np.abs(eyes[:, 0, 1] - eyes[:, 1, 1]).max() < 3.0  # eyes level
        assert np.abs(eyes - eyes.mean(0)).max() < 4.0  # every photo's eyes at the same place
    # and the two collections agree with each other (raw CelebA and LFW crops frame faces very differently)
    assert np.abs(by_source[CELEBA].mean(0) - by_source[LFW].mean(0)).max() < 2.0


def test_photo_without_a_face_is_refused_by_name():
    rng = np.random.default_rng(0)
    noise = Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    with pytest.raises(NoFaceError, match="landscape.jpg: no face found"):
        align_face(noise, 64, "landscape.jpg")


def test_rotated_greyscale_and_large_photos_are_aligned_like_the_original(shared_data, tmp_path):
    path = photos(shared_data, CELEBA, 1, 1)[0][0]
    original = to_model_mode(open_image(path), 3)
    reference = np.asarray(align_face(original, 64).image, dtype=np.float64)
    sideways = original.transpose(Image.Transpose.ROTATE_270)  # stored sideways; EXIF 8: turn it 90 degrees back
    exif = Image.Exif()
    exif[0x0112] = 8
    sideways.save(tmp_path / "phone.jpg", exif=exif, quality=95)
    original.convert("L").save(tmp_path / "grey.png")
    original.resize((original.width * 12, original.height * 12), Image.Resampling.BICUBIC).save(tmp_path / "big.jpg")
    for name in ("phone.jpg", "grey.png", "big.jpg"):
        face = align_face(to_model_mode(open_image(tmp_path / name), 3), 64, name)
        aligned = np.asarray(face.image.convert("L" if name == "grey.png" else "RGB"), dtype=np.float64)
        target = np.asarray(Image.fromarray(reference.astype(np.uint8)).convert("L"), dtype=np.float64) \
            if name == "grey.png" else reference
        assert np.abs(aligned - target).mean() < 12.0, name


def test_several_faces_take_the_largest_and_a_small_face_is_noted(shared_data):
    big_path, small_path = photos(shared_data, CELEBA, 2, 1)
    big = to_model_mode(open_image(big_path[0]), 3)
    small = to_model_mode(open_image(small_path[0]), 3).resize((133, 163))
    scene = Image.new("RGB", (big.width + 180, big.height + 20), (90, 90, 90))
    scene.paste(big, (0, 0))
    scene.paste(small, (big.width + 20, 40))
    face = align_face(scene, 64, "two.jpg")
    alone = np.asarray(align_face(big, 64).image, dtype=np.float64)
    assert face.faces_found == 2
    assert np.abs(np.asarray(face.image, dtype=np.float64) - alone).mean() < 8.0  # the big face, not the small
    assert any("2 faces found; the largest (the one on the left) was used" in n for n in face.warnings("two.jpg"))
    tiny = Image.new("RGB", (400, 300), (90, 90, 90))
    tiny.paste(small.resize((36, 44)), (200, 100))
    try:
        notes = align_face(tiny, 64, "far.jpg").warnings("far.jpg")
    except NoFaceError:  # too small even to be found: also a message naming the file
        return
    assert any("far.jpg" in n and "px wide" in n for n in notes)


def test_alignment_cache_is_keyed_by_file_content_and_remembers_faceless_files(shared_data, tmp_path):
    source = photos(shared_data, LFW, 1, 1)[0][0]
    shutil.copy(source, tmp_path / "a.jpg")
    shutil.copy(source, tmp_path / "renamed.jpg")
    Image.new("RGB", (96, 96), (30, 140, 30)).save(tmp_path / "lawn.png")
    cache = AlignmentCache(64, root=tmp_path / "cache")
    load = lambda p: to_model_mode(open_image(p), 3)  # noqa: E731
    first = np.asarray(cache.get(tmp_path / "a.jpg", load))
    cached = list((tmp_path / "cache").rglob("*.png"))
    assert len(cached) == 1
    again = np.asarray(cache.get(tmp_path / "renamed.jpg", lambda p: pytest.fail("decoded again")))
    assert np.array_equal(first, again)
    with pytest.raises(NoFaceError):
        cache.get(tmp_path / "lawn.png", load)
    with pytest.raises(NoFaceError, match="lawn.png: no face found"):  # remembered: not searched again
        cache.get(tmp_path / "lawn.png", lambda p: pytest.fail("searched again"))
    assert not list((tmp_path / "cache").rglob("*.tmp"))


@pytest.mark.parametrize("source", [CELEBA, LFW])
def test_identity_judge_tells_real_people_apart(shared_data, source):
    people = photos(shared_data, source, people=8, per_person=5, min_photos=5)
    images, labels = [], []
    for person, files in enumerate(people):
        for path in files:
            images.append(image_to_tensor(align_face(to_model_mode(open_image(path), 3), 64).image))
            labels.append(person)
    descriptors = embed_faces(torch.stack(images))
    labels = np.array(labels)
    assert descriptors.shape == (40, 128)
    hits = 0
    for i in range(len(labels)):  # each photo against references made of the OTHER photos
        others = np.arange(len(labels)) != i
        refs = references(descriptors[others], labels[others], len(people))
        hits += int(nearest_person(descriptors[i : i + 1], refs)[0] == labels[i])
    assert hits / len(labels) >= 0.85  # chance: 1/8
