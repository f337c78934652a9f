"""The live camera's frames handed to the demo as the JPEG the page sent (its data URL), not decoded and saved again
by Gradio. ``gr.Image`` decodes every streamed frame whole and re-encodes it as WebP before the function sees it
(about 0.1-0.2 s a 1280 x 720 frame on a small CPU: two sessions streaming got 1.2-2.6 frames a second processed of
the 2.8-3.5 their pages sent; 4.0 of 4.0 with this), and it would decode a frame of any size first; here the demo
decodes it once, within a frame's bounds (``demo.computing.live_pooling.read_frame``: pixels and aspect ratio read
from its header, JPEGs decoded reduced). The component's own ``preprocess`` is replaced (a subclass of ``gr.Image``
would make Gradio write a ``.pyi`` stub beside this module).
"""
from __future__ import annotations

from typing import Any

import gradio as gr


def hand_over_frames(camera: gr.Image) -> gr.Image:
    """``camera`` (a streaming webcam ``gr.Image``) giving its function each frame's data URL as sent
    (``data:image/...;base64,...``, bounded by ``request_limits``); an entry that names a file (an API client's) is
    passed on as Gradio's own value."""
    gradios = camera.preprocess

    def preprocess(payload: Any) -> Any:
        url = getattr(payload, "url", None)
        return url if isinstance(url, str) and url.startswith("data:") else gradios(payload)

    camera.preprocess = preprocess  # type: ignore[method-assign]
    return camera
