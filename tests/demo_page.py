"""The demo's page in headless Chromium, driven the way a user does: tabs, the model picker, uploads through the
file inputs, the drawing pad, sliders moved with the keyboard, live pooling from a fake camera, and screenshots of
every tab. Used by tests/test_demo.py and benchmarks/demo_load.py."""
from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter, ImageOps

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
TABS = ["Pool evidence", "Interpolate", "Swap grid", "Generate", "Album", "About"]
RESULT_OF_TAB = {"Pool evidence": "#pool-sheet img", "Interpolate": "#interp-grid img", "Swap grid": "#swap-grid img",
                 "Generate": "#gen-image img", "Album": "#album-sheet img", "About": "#about-model"}
# a script run before the page's own: it notes the event (fn_index) of every call the page queues
RECORD_EVENTS = """
window.queued = [];
const fetched = window.fetch;
window.fetch = function (resource, init) {
  try {
    const url = typeof resource === "string" ? resource : resource.url;
    if (url.includes("/queue/join") && init && typeof init.body === "string")
      window.queued.push(JSON.parse(init.body).fn_index);
  } catch (e) {}
  return fetched.apply(this, arguments);
};
"""
# an absolute path of the server's file system (what the page and the API must never show)
SERVER_PATH = re.compile(r"(?<![\w.:/])/(?:home|root|tmp|work|usr|var|etc|opt|mnt|srv|private|Users)/")


class Page:
    """One browser tab on the demo."""

    def __init__(self, driver, url: str, screenshots: Path) -> None:
        self.driver, self.url, self.screenshots = driver, url, screenshots

    def css(self, selector: str) -> list:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait(self, condition: Callable[[], object], timeout: float = 60, what: str = "") -> object:
        """Poll ``condition`` until it is truthy; AssertionError naming ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = condition()
            except Exception:  # an element replaced while we looked: look again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or condition}")
            time.sleep(0.2)

    def open(self, width: int, height: int) -> None:
        """Load the page at a viewport of ``width`` x ``height`` and wait for the first results."""
        self.resize(width, height)
        self.driver.get(self.url)
        self.wait(lambda: self.css("#pool-sheet img"), 120, "the examples' results")

    def resize(self, width: int, height: int) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                    {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def tab(self, name: str) -> None:
        """Select a tab (every tab button must be on screen: none hidden in an overflow menu)."""
        buttons = {b.text: b for b in self.css("button[role=tab]")}
        assert list(buttons) == TABS, f"tabs on screen: {list(buttons)}"
        assert all(b.is_displayed() for b in buttons.values())
        buttons[name].click()
        self.wait(lambda: self.css("button[role=tab][aria-selected=true]")[0].text == name, 10, f"tab {name}")

    def text(self) -> str:
        return self.driver.execute_script("return document.body.innerText")

    def every_tab(self, label: str) -> str:
        """Visit every tab, wait for its result, save a screenshot of it; returns the text of all tabs."""
        self.screenshots.mkdir(parents=True, exist_ok=True)
        texts = []
        for i, name in enumerate(TABS):
            self.tab(name)
            self.wait(lambda name=name: self.css(RESULT_OF_TAB[name]), 90, f"the result of {name}")
            time.sleep(0.5)  # let the images paint
            self.screenshot(f"{label}-{i + 1}-{name.lower().replace(' ', '-')}")
            texts.append(self.text())
        return "\n".join(texts)

    def screenshot(self, name: str) -> None:
        """The whole page (all of its height, at the viewport's width) as ``name``.png."""
        import base64

        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        width, height = metrics["cssLayoutViewport"]["clientWidth"], metrics["cssContentSize"]["height"]
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "captureBeyondViewport": True, "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 6000),
                                                    "scale": 1}})
        self.screenshots.mkdir(parents=True, exist_ok=True)
        (self.screenshots / f"{name}.png").write_bytes(base64.b64decode(shot["data"]))

    def select_model(self, label: str) -> None:
        self.css("#model input")[0].click()
        option = self.wait(lambda: [o for o in self.css("li[role=option]") if o.get_attribute("aria-label") == label],
                           10, f"the option {label}")
        option[0].click()

    def gallery_names(self, key: str) -> list[str]:
        """File names of the thumbnails in a gallery (Gradio serves copies under the uploaded names)."""
        return [src.rsplit("/", 1)[-1] for src in
                (img.get_attribute("src") or "" for img in self.css(f"#{key}-photos .thumbnail-item img"))]

    def image_src(self, selector: str) -> str:
        found = self.css(f"{selector} img")
        return found[0].get_attribute("src") if found else ""

    def draw_digit(self, key: str, strokes: list[list[tuple[int, int]]], touch: bool = False) -> None:
        """Drag the mouse (or a finger: ``touch``) over the pad of ``key``'s input along each stroke (points relative
        to its centre)."""
        from selenium.webdriver.common.action_chains import ActionChains

        canvas = self.wait(lambda: [c for c in self.css(f"#{key}-pad canvas") if c.is_displayed()], 20, "the pad")[0]
        if touch:  # touch events as a phone sends them (Chrome makes pointer events of them)
            cx, cy = self.driver.execute_script(
                "arguments[0].scrollIntoView({block: 'center'}); const r = arguments[0].getBoundingClientRect();"
                "return [r.left + r.width / 2, r.top + r.height / 2]", canvas)
            def touch_event(kind: str, points: list[dict]) -> None:
                self.driver.execute_cdp_cmd("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

            for stroke in strokes:
                points = [(cx + x, cy + y) for x, y in stroke]
                steps = [points[0]] + [(a[0] + (b[0] - a[0]) * k / 8, a[1] + (b[1] - a[1]) * k / 8)
                                       for a, b in zip(points, points[1:], strict=False) for k in range(1, 9)]
                touch_event("touchStart", [{"x": steps[0][0], "y": steps[0][1]}])
                for x, y in steps[1:]:
                    touch_event("touchMove", [{"x": x, "y": y}])
                touch_event("touchEnd", [])
            return
        for stroke in strokes:
            chain = ActionChains(self.driver).move_to_element_with_offset(canvas, *stroke[0]).click_and_hold()
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:], strict=False):
                chain = chain.move_by_offset(x1 - x0, y1 - y0)
            chain.release().perform()

    def pad_ink(self, key: str) -> int:
        """How many pixels of the pad of ``key``'s input are not white paper."""
        return self.driver.execute_script(
            "const c = document.querySelector(arguments[0]), d = c.getContext('2d').getImageData(0, 0, c.width,"
            " c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4) n += d[i] < 128; return n",
            f"#{key}-pad canvas")

    def record_events(self) -> None:
        """From the next page load on, remember the event of every call the page queues (``events_run``)."""
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_EVENTS})

    def events_run(self) -> Counter:
        """How many times the page queued each event since it loaded, by the name of the event's function."""
        import json
        import urllib.request

        with urllib.request.urlopen(self.url.rstrip("/") + "/config", timeout=10) as answer:
            names = {d["id"]: re.sub(r"_\d+$", "", str(d["api_name"])) for d in json.load(answer)["dependencies"]}
        return Counter(names.get(i, str(i)) for i in self.driver.execute_script("return window.queued || []"))

    def toasts(self) -> list[str]:
        return [t.text for t in self.css(".toast-body")]

    def click_button(self, scope: str, label: str) -> None:
        """Click the displayed button under ``scope`` whose text or aria-label is ``label``."""
        self.wait(lambda: [b for b in self.css(f"{scope} button") if b.is_displayed()
                           and label in (b.text, b.get_attribute("aria-label"))], 20, f"the button {label}")[0].click()

    def start_live(self) -> None:
        """Open the live pooling's camera and start its stream (the faces model selected)."""
        self.click_button("#live-camera", "Click to Access Webcam")
        self.wait(lambda: [v for v in self.css("#live-camera video") if int(v.get_attribute("videoHeight") or 0)], 30,
                  "the camera's picture")
        for _ in range(3):  # the Record button (aria-label "capture photo") says Stop once the stream runs
            self.click_button("#live-camera", "capture photo")
            try:
                self.wait(lambda: [b for b in self.css("#live-camera button") if b.text == "Stop"], 10, "Stop")
                return
            except AssertionError:
                continue

    def record_live(self) -> None:
        """Press the live camera's Record button (the camera open) and wait until it says Stop: streaming."""
        self.click_button("#live-camera", "capture photo")
        self.wait(lambda: [b for b in self.css("#live-camera button") if b.is_displayed() and b.text == "Stop"], 20,
                  f"Stop (the stream started; the camera's buttons: {self.live_buttons()})")

    def stop_live(self) -> None:
        """Press Stop and wait until the camera offers Record again."""
        self.click_button("#live-camera", "Stop")
        self.wait(lambda: "Record" in self.live_buttons(), 20, f"Record again (buttons: {self.live_buttons()})")

    def live_buttons(self) -> list[str]:
        """The texts of the live camera's buttons on screen."""
        return [b.text for b in self.css("#live-camera button") if b.is_displayed()]

    def live_counts(self) -> tuple[int, int, float]:
        """(frames seen, frames pooled, mean content variance) from the live status line."""
        text = self.css("#live-status")[0].text
        if "start the camera" in text:
            return 0, 0, float("inf")
        seen, pooled = map(int, re.search(r"(\d+) frames seen, (\d+) pooled", text).groups())
        variance = re.search(r"Mean content variance ([\d.e-]+)", text)
        return seen, pooled, float(variance.group(1).rstrip(".")) if variance else float("inf")


@contextlib.contextmanager
def chromium(*flags: str) -> Iterator:
    """Headless Chromium with a fake webcam (``flags`` added); yields the driver, quits it after."""
    import pytest

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
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000",
                 "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", *flags):  # a webcam that works
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def camera_views(photos: Sequence[str], variants: bool = False) -> list[Image.Image]:
    """The photos as RGB images; with ``variants`` also each one mirrored, darker and brighter (new views of the
    same person, for a longer video without repeats)."""
    views = []
    for photo in photos:
        image = Image.open(photo).convert("RGB")
        views.append(image)
        if variants:
            views += [ImageOps.mirror(image), image.point(lambda v: int(v * 0.7)),
                      ImageOps.mirror(image).point(lambda v: min(255, int(v * 1.25)))]
    return views


def camera_frame(photo: str | Path | Image.Image, width: int = 640, height: int = 480, seed: int = 0,
                 shift: int = 0) -> Image.Image:
    """A photo-like webcam frame of ``width`` x ``height``: the photo scaled to the frame's height (a face filling
    it, as in front of a laptop's camera) over a blurred, enlarged copy of itself (a room behind), with sensor noise
    (``seed``), shifted ``shift`` pixels sideways. Its JPEG is as large as a real camera's (tens of kB at 640 x 480)."""
    image = photo.convert("RGB") if isinstance(photo, Image.Image) else Image.open(photo).convert("RGB")
    frame = image.resize((width, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(width / 25))
    scale = height / image.height
    face = image.resize((round(image.width * scale), height), Image.Resampling.BICUBIC)
    frame.paste(face, ((width - face.width) // 2 + shift, 0))
    noisy = np.asarray(frame, dtype=np.float32) + np.random.default_rng(seed).normal(0, 3.0, (height, width, 3))
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))


def fake_camera_video(photos: Sequence[str | Image.Image], path: Path, width: int = 320, height: int = 240,
                      fps: int = 4, photo_like: bool = False, repeat: int = 1) -> Path:
    """A .y4m video for Chromium's fake camera (--use-file-for-fake-video-capture): ``repeat`` frames per photo,
    each centred on grey, or (``photo_like``) a ``camera_frame`` of it; ``fps`` a second."""
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for k, photo in enumerate(p for p in photos for _ in range(repeat)):
            if photo_like:
                frame = camera_frame(photo, width, height, seed=k)
            else:
                frame = Image.new("RGB", (width, height), (110, 110, 110))
                image = photo.copy() if isinstance(photo, Image.Image) else Image.open(photo).convert("RGB")
                image.thumbnail((width, height))
                frame.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
            y, cb, cr = frame.convert("YCbCr").split()
            half = (width // 2, height // 2)
            out.write(b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes())
    return path
