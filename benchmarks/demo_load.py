"""The demo under load: 16 concurrent clients against the real app on loopback.

    python -m benchmarks.demo_load                        # the shipped checkpoints, clients as the page sends
    python -m benchmarks.demo_load --live                 # ... with a live webcam stream pooling beside them
    python -m benchmarks.demo_load --client gradio_client # clients that upload every file with every call
    python -m benchmarks.demo_load --model runs/x/best    # other checkpoints (folders or Hub ids)

Starts ``python app.py`` on a free loopback port, measures the swap grid alone (one client, nothing else
running: the unloaded baseline), then lets ``--clients`` clients send ``--requests`` requests in all, mixed over
the tabs and models (pool, interpolate, the slider, swap, generate, about), with real photos, and prints requests
per second, median and p95 latency per endpoint, and the errors. Latency is the whole round trip as a user sees
it (uploads, queue, compute, result). The app computes CONCURRENCY (2) requests at a time and queues the rest,
so under load most of a request's time is waiting in the queue.
Two kinds of client: ``browser`` (the default) does what the page does: a gallery's photos are uploaded once, in
one request, and each click sends their server paths; ``gradio_client`` uploads every file of every call again, one
connection each, which costs the server more.
With ``--live``, headless Chromium (/usr/bin/chromium) pools live from a fake camera that plays one person's photos
(and mirrored, darker and brighter copies) during the load, and the frames it pooled a second are measured.
Goals (absolute: on 2 cores the round trip under load is clients / throughput whatever the request):
zero errors, at least 20 requests a second, every endpoint's p95 under 1.5 s; the live stream at least 1 pooled
frame a second.
Inputs: MNIST test digits and CelebA photos from $MLVAE_DATA_DIR (read in place, digits written to a tmp dir),
or the demo's own generated examples when $MLVAE_DATA_DIR is not set. Bounded: stops by itself.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.demo_latency import digit_inputs, face_inputs, percentiles, start_app
from demo.app import CONCURRENCY, QUEUE_SIZE
from demo.galleries.example_sets import EXAMPLES_DIR
from demo.models import load_registry

MIN_RPS = 20  # requests a second under load, at least
MAX_P95_S = 1.5  # every endpoint's p95 under load, at most
MIN_LIVE_FPS = 1  # frames the live stream pools a second during the load, at least
REQUEST_TIMEOUT_S = 300  # a request still unanswered after this counts as an error


@dataclass
class Outcome:
    """One request: which endpoint and model, how long it took, and its error (None when it succeeded)."""

    endpoint: str
    model: str
    seconds: float
    error: str | None = None


def example_inputs(kind: str) -> dict[str, list[str]]:
    """The demo's generated examples (no $MLVAE_DATA_DIR): a group of one person or digit, and 8 others."""
    folder = EXAMPLES_DIR / kind
    files = sorted(str(p) for p in folder.glob("*.png"))
    if not files:
        raise SystemExit(f"no input images: set MLVAE_DATA_DIR, or generate {folder} (python -m demo.make_examples)")
    first = files[0].rsplit("-", 1)[0]
    group = [f for f in files if f.rsplit("-", 1)[0] == first]
    heads = {f.rsplit("-", 1)[0]: f for f in reversed(files)}  # the first file of each group
    return {"group": group, "people": (list(heads.values()) + files)[:8]}


@dataclass(frozen=True)
class Gallery:
    """A gallery input of a request: these image files."""

    paths: tuple[str, ...]


def requests_for(model: str, files: dict[str, list[str]]) -> dict[str, list]:
    """The tabs' requests for one model: endpoint -> its inputs, galleries as ``Gallery``."""
    group, people = files["group"], files["people"]
    g = lambda paths: Gallery(tuple(paths))  # noqa: E731
    return {
        "/pool": [model, g(group[:5])],
        "/interpolate": [model, g(group[:2]), g(people[:1]), 0.5, 0.5],
        "/interpolate_image": [model, g(group[:1]), g(people[1:2]), 0.3, 0.7],
        "/swap": [model, g(people), False, ""],
        "/generate": [model, g(group[:3]), 8, 0],
        "/about": [model],
    }


class GradioClientSession:
    """A gradio_client Client: every call uploads each of its files anew, one request (and connection) each."""

    def __init__(self, url: str) -> None:
        from gradio_client import Client

        # plain HTTP on loopback: without ssl_verify=False gradio_client loads the CA bundle for every file it
        # uploads (about 24 ms of CPU each), CPU that a small machine would take from the app being measured
        self.client = Client(url, verbose=False, ssl_verify=False)

    def call(self, endpoint: str, inputs: list) -> None:
        from gradio_client import handle_file

        data = [[{"image": handle_file(p), "caption": None} for p in x.paths] if isinstance(x, Gallery) else x
                for x in inputs]
        self.client.submit(*data, api_name=endpoint).result(timeout=REQUEST_TIMEOUT_S)


class BrowserSession:
    """What the demo's page does over one kept-alive connection: a gallery's photos are uploaded once, in one
    request, when the user adds them; each click then sends their server paths through the queue, and the result
    image is fetched to show it."""

    def __init__(self, url: str) -> None:
        import httpx

        self.base = url.rstrip("/")
        self.http = httpx.Client(timeout=REQUEST_TIMEOUT_S)
        self.session = uuid.uuid4().hex  # one session, as a page has (a new one per call counts against the client)
        self.uploaded: dict[tuple[str, ...], list[dict]] = {}

    def gallery(self, photos: Gallery) -> list[dict]:
        if photos.paths not in self.uploaded:
            files = [("files", (Path(p).name, Path(p).read_bytes())) for p in photos.paths]
            response = self.http.post(f"{self.base}/gradio_api/upload", files=files)
            response.raise_for_status()
            self.uploaded[photos.paths] = [{"image": {"path": path, "meta": {"_type": "gradio.FileData"}},
                                            "caption": None} for path in response.json()]
        return self.uploaded[photos.paths]

    def call(self, endpoint: str, inputs: list) -> None:
        data = [self.gallery(x) if isinstance(x, Gallery) else x for x in inputs]
        response = self.http.post(f"{self.base}/gradio_api/call{endpoint}",
                                  json={"data": data, "session_hash": self.session})
        response.raise_for_status()
        with self.http.stream("GET", f"{self.base}/gradio_api/call{endpoint}/{response.json()['event_id']}") as events:
            body = "".join(events.iter_text())
        kind, _, payload = body.rpartition("event: ")[2].partition("\n")
        if kind.strip() != "complete":
            raise RuntimeError(f"{kind.strip()}: {payload.strip()[:200]}")
        result = json.loads(payload.split("data:", 1)[1].strip())
        for value in result:  # the image a tab shows is fetched by the page
            if isinstance(value, dict) and value.get("url"):
                self.http.get(value["url"]).raise_for_status()


SESSIONS = {"browser": BrowserSession, "gradio_client": GradioClientSession}


def timed_request(session, endpoint: str, model: str, inputs: list) -> Outcome:
    """Send one request and wait for its result (at most REQUEST_TIMEOUT_S)."""
    start = time.perf_counter()
    try:
        session.call(endpoint, inputs)
        return Outcome(endpoint, model, time.perf_counter() - start)
    except Exception as exc:  # any failure is an error to count and show, never a crash of the benchmark
        return Outcome(endpoint, model, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:300])


def unloaded(session, model: str, inputs: list, repeats: int) -> list[Outcome]:
    """``repeats`` requests from one client, one at a time, after one warm-up."""
    timed_request(session, "/swap", model, inputs)
    return [timed_request(session, "/swap", model, inputs) for _ in range(repeats)]


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a process has used so far, from /proc; None where there is no /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def loaded(
    url: str, jobs: list[tuple[str, str, list]], clients: int, session_kind: type
) -> tuple[list[Outcome], float]:
    """Every job, sent by ``clients`` concurrent clients (each sends its next job when the last one is answered);
    returns the outcomes and the wall time."""
    todo: queue.Queue = queue.Queue()
    for job in jobs:
        todo.put(job)
    sessions = [session_kind(url) for _ in range(clients)]  # connected before the clock starts
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def work(session) -> None:
        while True:
            try:
                endpoint, model, inputs = todo.get_nowait()
            except queue.Empty:
                return
            outcome = timed_request(session, endpoint, model, inputs)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=work, args=(s,), daemon=True) for s in sessions]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, time.perf_counter() - start


@contextlib.contextmanager
def live_stream(url: str, data: Path | None, folder: Path) -> Iterator:
    """A headless Chromium page pooling live from a fake camera that plays one person's photos and copies of them
    (mirrored, darker, brighter: 2 a second, a minute without a repeat); yields the page (``live_counts()``)."""
    from tests.demo_page import Page, camera_views, chromium, fake_camera_video

    if data is None or not (data / "faces-celeba200").is_dir():
        raise SystemExit("--live needs one person's photos: set MLVAE_DATA_DIR")
    person = sorted(p for p in (data / "faces-celeba200").iterdir() if p.is_dir())[0]
    video = fake_camera_video(camera_views(sorted(str(p) for p in person.iterdir())[:30], variants=True),
                              folder / "live.y4m", fps=2)
    with chromium(f"--use-file-for-fake-video-capture={video}") as driver:
        page = Page(driver, url, folder)
        page.open(1400, 1000)
        page.select_model("faces (64x64 colour)")
        page.start_live()
        page.wait(lambda: page.live_counts()[1] >= 2, 60, "the first frames pooled live")
        yield page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[],
                        help="checkpoint instead of the shipped ones (repeatable)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: 16)")
    parser.add_argument("--requests", type=int, default=192, help="requests sent under load, in all (default: 192)")
    parser.add_argument("--client", choices=sorted(SESSIONS), default="browser",
                        help="browser: as the demo's page (photos uploaded once, clicks send their paths); "
                        "gradio_client: every call uploads its files again, one connection each (default: browser)")
    parser.add_argument("--baseline", type=int, default=15,
                        help="unloaded swap-grid requests per model, shown for reference (default: 15)")
    parser.add_argument("--live", action="store_true",
                        help="a live webcam stream (headless Chromium, fake camera) pooling during the load")
    args = parser.parse_args()
    if args.clients < 1 or args.requests < 1 or args.baseline < 1:
        parser.error("--clients, --requests and --baseline must be at least 1")

    registry = load_registry(args.model, include_shipped=not args.model)  # which models, and of which kind
    if not registry.models:
        raise SystemExit("no checkpoint: ship checkpoints/mnist and checkpoints/faces, or pass --model")
    data = Path(os.environ.get("MLVAE_DATA_DIR", "")) if os.environ.get("MLVAE_DATA_DIR") else None
    tmp = tempfile.mkdtemp(prefix="demo-load-")
    inputs = {}
    for m in registry.models.values():
        if data and (data / "faces-celeba200").is_dir() and (data / "mnist").is_dir():
            inputs[m.name] = digit_inputs(Path(tmp)) if m.is_digits else face_inputs(data)
        else:
            inputs[m.name] = example_inputs(m.kind.name)
    calls = {name: requests_for(name, files) for name, files in inputs.items()}
    mix = [(endpoint, name) for name in calls for endpoint in calls[name]]  # every tab of every model, in turn
    jobs = [(endpoint, name, calls[name][endpoint]) for endpoint, name in itertools.islice(itertools.cycle(mix),
                                                                                           args.requests)]

    model_args = [a for source in args.model for a in ("--model", source)] + ["--host", "127.0.0.1"]
    if args.model:
        model_args.append("--no-shipped")
    proc, url, ready = start_app(model_args)
    try:
        print(f"app ready in {ready:.1f} s at {url} (loopback); models: {', '.join(calls)}; "
              f"it computes {CONCURRENCY} requests at a time and queues up to {QUEUE_SIZE}")
        session_kind = SESSIONS[args.client]
        baseline = {name: unloaded(session_kind(url), name, calls[name]["/swap"], args.baseline) for name in calls}
        with live_stream(url, data, Path(tmp)) if args.live else contextlib.nullcontext() as live:
            live_before = live.live_counts() if live else None
            server_cpu, client_cpu = cpu_seconds(proc.pid), time.process_time()
            outcomes, wall = loaded(url, jobs, args.clients, session_kind)
            server_cpu = None if server_cpu is None else cpu_seconds(proc.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
            live_after = live.live_counts() if live else None
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    errors = [o for o in outcomes if o.error]
    print(f"\nunder load: {args.clients} {args.client} clients, {len(outcomes)} requests in {wall:.1f} s = "
          f"{len(outcomes) / wall:.2f} requests/s; errors: {len(errors)}")
    if server_cpu is not None:
        print(f"CPU used meanwhile: the app {server_cpu:.1f} s ({server_cpu / wall:.2f} cores), these clients "
              f"{client_cpu:.1f} s ({client_cpu / wall:.2f} cores), of {os.cpu_count()} cores on this machine")
    print(f"{'endpoint':<20} {'model':<10} {'count':>5} {'median':>10} {'p95':>10}")
    by_key: dict[tuple[str, str], list[float]] = defaultdict(list)
    for o in outcomes:
        if not o.error:
            by_key[(o.endpoint, o.model)].append(o.seconds)
    for (endpoint, model), times in sorted(by_key.items()):
        median, p95 = percentiles(times)
        print(f"{endpoint:<20} {model:<10} {len(times):>5} {median:>7.0f} ms {p95:>7.0f} ms")
    everything = [o.seconds for o in outcomes if not o.error]
    if everything:
        median, p95 = percentiles(everything)
        print(f"{'all':<20} {'':<10} {len(everything):>5} {median:>7.0f} ms {p95:>7.0f} ms")
    for o in errors[:5]:
        print(f"error: {o.endpoint} ({o.model}) after {o.seconds:.1f} s: {o.error}")

    print("\nswap grid alone (one client, for reference): " + ", ".join(
        f"{name} median {statistics.median([o.seconds for o in alone if not o.error] or [float('nan')]) * 1e3:.0f} ms"
        for name, alone in baseline.items()))
    rps = len(outcomes) / wall
    slowest = max((percentiles(times)[1] for times in by_key.values()), default=float("inf")) / 1e3
    met = {"zero errors": not errors, f"at least {MIN_RPS} requests/s": rps >= MIN_RPS,
           f"every endpoint's p95 under {MAX_P95_S} s": slowest < MAX_P95_S}
    print(f"\ngoals: {len(errors)} errors; {rps:.1f} requests/s; slowest endpoint p95 {slowest:.2f} s")
    if live_before and live_after:
        fps = (live_after[1] - live_before[1]) / wall
        met[f"live stream at least {MIN_LIVE_FPS} pooled frame/s"] = fps >= MIN_LIVE_FPS
        print(f"live stream during the load: {live_after[0] - live_before[0]} frames seen, "
              f"{live_after[1] - live_before[1]} pooled = {fps:.2f} pooled frames/s")
    for goal, ok in met.items():
        print(f"  {goal}: {'met' if ok else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
