"""What one session costs the server: its resident memory (RSS) per session, measured on the real app on loopback.

    python -m benchmarks.session_cost                  # the shipped checkpoints, 150 sessions
    python -m benchmarks.session_cost --sessions 300 --model runs/x/best

Each session loads the page, then does what the attack of issue 31 did: it switches models twice (so the memory of
both kinds of model holds its inputs) with every gallery it remembers full (the album's 200 uploaded photos, and
the first 64 of them in each other gallery, with 200-character file names and 1,000-character captions) and
30,000-character labels in each text. Then as many sessions each send one request that is refused (a NaN). Prints
the server's RSS growth per session for both; the goal is at most 250 kB a session with full galleries
(``MAX_SESSION_KB``), so that the 1,000 sessions kept (``MAX_SESSIONS``) hold at most 250 MB. Each measurement
follows ``WARM_UP`` sessions of its kind, which are not counted: what the first ones set up once. Bounded: stops
by itself.
"""
from __future__ import annotations

import argparse
import io
import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

MAX_SESSION_KB = 250
PHOTOS = 200  # the album's most (demo.computing.computations.MAX_ALBUM); the other galleries take 64
NAME_CHARS = 200
WARM_UP = 10  # sessions of each kind run before the measurement


def post(url: str, body: bytes, content_type: str = "application/json", cookie: str = "") -> tuple[int, str]:
    """POST ``body`` (with a page's cookie, if given); the status and the answer's text."""
    headers = {"Content-Type": content_type, **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def rss_kb(pid: int) -> int:
    """A process's resident memory now, in kB."""
    return int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))


def upload_photos(url: str, count: int = PHOTOS) -> list[str]:
    """``count`` distinct small PNGs with long names, uploaded; their paths on the server."""
    paths = []
    for k in range(count):
        buf = io.BytesIO()
        Image.fromarray(np.full((28, 28), k % 256, np.uint8)).save(buf, "PNG")
        boundary, name = uuid.uuid4().hex, f"{k:03d}-" + "n" * (NAME_CHARS - 8) + ".png"
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
                "Content-Type: image/png\r\n\r\n").encode() + buf.getvalue() + f"\r\n--{boundary}--\r\n".encode()
        status, text = post(f"{url}gradio_api/upload", body, f"multipart/form-data; boundary={boundary}")
        if status != 200:
            raise SystemExit(f"upload refused ({status}): {text[:200]}")
        paths.append(json.loads(text)[0])
    return paths


def page_cookie(url: str) -> str:
    """Load the page, as a browser does; the cookie it came with (its page token)."""
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        return (response.headers.get("set-cookie") or "").split(";")[0]


def event(url: str, fn_index: int, data: list, session: str, cookie: str = "") -> dict:
    """One event in ``session`` through the queue; its last message (process_completed) or the refusal."""
    status, text = post(f"{url}gradio_api/queue/join", json.dumps(
        {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None}).encode(),
        cookie=cookie)
    if status != 200:
        return {"refused": status, "text": text}
    return stream_outcome(url, session)


def stream_outcome(url: str, session: str, timeout: float = 120) -> dict:
    """The last message of a session's event stream (process_completed: success, output or error), {} if none."""
    last = {}
    with urllib.request.urlopen(f"{url}gradio_api/queue/data?session_hash={session}", timeout=timeout) as stream:
        for line in stream:
            if line.startswith(b"data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    last = message
                if message.get("msg") == "close_stream":
                    break
    return last


def measure(url: str, pid: int, sessions: int, models: tuple[str, str]) -> dict[str, float]:
    """kB of RSS per session (each a page load, then its events): with full galleries and long labels, and with
    one refused request."""
    from demo.computing.computations import MAX_ALBUM, MAX_GROUP
    from demo.gradio_internals.request_files import GALLERY_FILES

    config = json.load(urllib.request.urlopen(f"{url}config", timeout=30))
    types = {c["id"]: c["type"] for c in config["components"]}
    elem_ids = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    inputs = [[types[x] for x in d["inputs"]] for d in config["dependencies"]]
    # the model switch: the event that takes every remembered gallery and the memory (a state)
    switch = max((i for i, kinds in enumerate(inputs) if "state" in kinds), key=lambda i: inputs[i].count("gallery"))
    generate = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "generate")
    photos = upload_photos(url, max(MAX_ALBUM, MAX_GROUP))
    gallery = [{"image": {"path": p, "orig_name": Path(p).name, "meta": {"_type": "gradio.FileData"}},
                "caption": "c" * 1000} for p in photos]

    def full(component: int) -> list[dict] | str | None:
        """A full gallery (as many photos as it takes), long labels for a text."""
        kind = types[component]
        if kind == "gallery":
            return gallery[:GALLERY_FILES.get(elem_ids[component], MAX_GROUP)]
        return "x" * 30_000 if kind == "textbox" else None

    switch_inputs = config["dependencies"][switch]["inputs"]
    values = [full(c) for c in switch_inputs[3:]]  # after the model, the memory and the kind shown
    if sum(len(v) for v in values if isinstance(v, list)) <= 6 * MAX_GROUP:
        raise SystemExit("the model switch takes no album gallery (elem_id in GALLERY_FILES): nothing to fill")
    costs = {}
    for what, requests in {
        "full galleries, 30,000-character labels": lambda s, c: [event(url, switch, [m, None, None, *values], s, c)
                                                                 for m in (models[1], models[0])],
        "one refused request": lambda s, c: [event(url, generate, [models[0], None, float("nan"), 0], s, c)],
    }.items():
        for _ in range(WARM_UP):  # what the first sessions set up once (caches, lazily built parts) is not theirs
            requests(uuid.uuid4().hex, page_cookie(url))
        time.sleep(1)
        before = rss_kb(pid)
        for _ in range(sessions):
            answers = requests(uuid.uuid4().hex, page_cookie(url))
            if what.startswith("full") and not all(a.get("success") for a in answers):
                raise SystemExit(f"the model switch failed: {answers[-1]}")
        costs[what] = (rss_kb(pid) - before) / sessions
    return costs


def main() -> int:
    from benchmarks.demo_latency import start_app
    from demo.gradio_internals.session_admission import MAX_SESSIONS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="checkpoints instead of the shipped ones")
    parser.add_argument("--names", default="mnist,faces", help="two models of different kinds (default: mnist,faces)")
    parser.add_argument("--sessions", type=int, default=150, help="sessions per measurement (default: 150)")
    args = parser.parse_args()
    names = tuple(args.names.split(","))
    proc, url, _ = start_app([a for m in args.model for a in ("--model", m)])
    try:
        costs = measure(url, proc.pid, args.sessions, (names[0], names[1]))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for what, kb in costs.items():
        print(f"{what}: {kb:.0f} kB a session ({args.sessions} sessions; {kb * MAX_SESSIONS / 1024:.0f} MB for the "
              f"{MAX_SESSIONS} kept; goal <= {MAX_SESSION_KB} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
