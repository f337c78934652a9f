"""The demo's page in headless Chromium, driven the way a user does: tabs, the model picker, uploads through the
file inputs, the drawing pad, sliders moved with the keyboard, and screenshots of every tab."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Callable

TABS = ["Pool evidence", "Interpolate", "Swap grid", "Generate", "About"]
RESULT_OF_TAB = {"Pool evidence": "#pool-sheet img", "Interpolate": "#interp-grid img", "Swap grid": "#swap-grid img",
                 "Generate": "#gen-image img", "About": "#about-model"}
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
            self.wait(lambda: self.css(RESULT_OF_TAB[name]), 90, f"the result of {name}")
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

    def draw_digit(self, key: str, strokes: list[list[tuple[int, int]]]) -> None:
        """Drag the mouse over the pad of ``key``'s input along each stroke (points relative to its centre)."""
        from selenium.webdriver.common.action_chains import ActionChains

        canvas = self.wait(lambda: [c for c in self.css(f"#{key}-pad canvas") if c.is_displayed()], 20, "the pad")[0]
        for stroke in strokes:
            chain = ActionChains(self.driver).move_to_element_with_offset(canvas, *stroke[0]).click_and_hold()
            for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
                chain = chain.move_by_offset(x1 - x0, y1 - y0)
            chain.release().perform()

    def toasts(self) -> list[str]:
        return [t.text for t in self.css(".toast-body")]
