"""Hostile webcam frames: every streamed frame passes the bounds an uploaded photo gets (aspect ratio, file size,
pixels) before it is decoded or searched for a face, and a refused frame is a status line that names the problem
while the stream goes on. Measured in a subprocess (its peak RSS) on a model that aligns faces."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import REPO
from tests.test_hostile_requests import EXTRA_RSS_MB, REQUEST_S
from tests.test_hostile_requests_third import grey_strip_png

LIVE_STRIP = """
import json, resource, sys, time
from pathlib import Path
from types import SimpleNamespace
from demo.computing.live_pooling import LivePooling
from demo.inputs.preparation import Preparation
from demo.kinds import FACES
from mlvae.data.faces import _dlib_models

class Registry:  # one model that aligns faces; a frame refused before encoding never reaches its network
    def get(self, name):
        return SimpleNamespace(kind=FACES, preparation=Preparation(64, 3, 0.8, align_faces=True), model=None)

_dlib_models()
live = LivePooling(Registry(), None, [Path(sys.argv[1]).parent])
results = []
for frame in sys.argv[1:]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    state, view = live.frame("faces", frame, None)
    results.append({"status": view.status, "pooled": state.pooled, "seconds": time.perf_counter() - started,
                    "extra_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024})
print(json.dumps(results))
"""


def test_a_one_pixel_wide_webcam_frame_is_refused_like_a_photo(tmp_path):
    frames = []
    for width, height in [(1, 30_000), (2_000_000, 1)]:  # 140 bytes; the second within a webcam frame's pixels
        frames.append(tmp_path / f"frame-{width}x{height}.png")
        frames[-1].write_bytes(grey_strip_png(width, height))
    done = subprocess.run([sys.executable, "-c", LIVE_STRIP, *map(str, frames)], cwd=REPO, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"\nextreme-aspect webcam frames on an aligning model: {results}")
    for (width, height), result in zip([(1, 30_000), (2_000_000, 1)], results, strict=True):
        assert result["pooled"] == 0 and result["seconds"] <= REQUEST_S, result
        assert result["extra_mb"] <= EXTRA_RSS_MB // 4, result
        assert f"Last frame: not pooled, {width} x {height} pixels is more elongated than the 20:1" in \
            result["status"], result
        assert "frame-" not in result["status"], result  # the server's name for the file is nobody's business
