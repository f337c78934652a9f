"""Latency of the Gradio demo on this machine: server-side time per request for each tab, and the app's
start-up time.

    python -m benchmarks.demo_latency                      # the shipped checkpoints (checkpoints/mnist, faces)
    python -m benchmarks.demo_latency --model runs/x/best  # other checkpoints (folders or Hub ids)

Server side = the tab's handler as the app runs it (decode the uploads, prepare them, run the latent
operation, lay out the sheet, write it as a PNG that Gradio serves as it is), timed in this process. "cold" decodes
the uploads every time (new photos); "warm" finds them prepared already (a slider move on the same photos).
"model" is the latent operation alone, the baseline the overhead is measured against. "round trip" is the
same request through gradio_client against the real app on localhost (uploads and queue included).
Goals: faces swap grid 8x8 <= 150 ms median, pooling 10 photos <= 300 ms, ready <= 15 s; the digits swap grid
under 20 ms server side. The swap grid is also split by stage (demo_stages.py): prepare,
encode, decode, draw, encode PNG in the server, and upload / call / download over raw HTTP.
Real inputs: MNIST test digits and CelebA photos from $MLVAE_DATA_DIR (read in place / written to a tmp dir).
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from benchmarks.demo_stages import swap_stages, wire_stages
from demo.app import TORCH_THREADS
from demo.computing import computations
from demo.computing.endpoints import Endpoints
from demo.inputs.photos import read_photos
from demo.inputs.prepared_cache import clear_cache
from demo.models import DemoModel, ModelRegistry, load_registry
from demo.results.png_store import ResultStore
from mlvae import DataConfig, latent
from mlvae.data import load_splits
from mlvae.data.images import to_float

REPO = Path(__file__).resolve().parent.parent
GOALS_MS = {("faces", "swap 8x8"): 150, ("faces", "pool 10 photos"): 300, ("digits", "swap 8x8"): 20}
READY_GOAL_S = 15


def percentiles(times: list[float]) -> tuple[float, float]:
    """Median and 95th percentile, in milliseconds."""
    ordered = sorted(times)
    return statistics.median(ordered) * 1e3, ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1e3


def timed(fn: Callable[[], object], repeats: int, before: Callable[[], None] = lambda: None) -> tuple[float, float]:
    """(median, p95) ms of ``fn`` over ``repeats`` calls after one warm-up; ``before`` runs untimed first."""
    before()
    fn()
    times = []
    for _ in range(repeats):
        before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return percentiles(times)


def face_inputs(data: Path) -> dict[str, list[str]]:
    """Real CelebA photos: 10 of one person, and one each of 8 other people."""
    folders = sorted(p for p in (data / "faces-celeba200").iterdir() if p.is_dir())
    first = lambda folder, n: [str(f) for f in sorted(folder.iterdir())[:n]]  # noqa: E731
    return {"group": first(folders[0], 10), "people": [first(f, 1)[0] for f in folders[1:9]]}


def digit_inputs(folder: Path) -> dict[str, list[str]]:
    """Real MNIST test digits as PNGs: 10 threes, and one of each of 8 classes."""
    test = load_splits(DataConfig(dataset="mnist")).test

    def write(i: int, name: str) -> str:
        Image.fromarray(test.images[i, 0].numpy()).save(folder / name)
        return str(folder / name)

    group = [write(i, f"3-{j}.png") for j, i in enumerate(test.members(3)[:10].tolist())]
    people = [write(test.members(d)[0].item(), f"{d}.png") for d in range(8)]
    return {"group": group, "people": people}


def bench_model(
    m: DemoModel, files: dict[str, list[str]], repeats: int, out: str
) -> list[tuple[str, float, float, float, float]]:
    """Rows (tab, cold median, cold p95, warm median, model-only median) for one model."""
    endpoints = Endpoints(ModelRegistry(models={m.name: m}), results=ResultStore(out))
    g = lambda paths: [(p, None) for p in paths]  # noqa: E731  (a Gallery value)
    group, people = files["group"], files["people"]
    prep = m.preparation
    x_group = to_float(read_photos(group, prep).images)
    x_people = to_float(read_photos(people, prep).images)
    weights = torch.linspace(0, 1, computations.GRID_STEPS).tolist()
    cases = {
        "pool 10 photos": (lambda: endpoints.pool(m.name, g(group)),
                           lambda: (latent.reconstruct(m.model, x_group),
                                    latent.reconstruct(m.model, x_group, pooled=True),
                                    latent.generate(m.model, x_group, computations.FRESH_STYLES),
                                    latent.content_variance_by_count(latent.encode(m.model, x_group)))),
        "swap 8x8": (lambda: endpoints.swap(m.name, g(people), False, ""),
                     lambda: latent.swap(m.model, x_people, x_people)),
        "swap 8x8 pooled": (lambda: endpoints.swap(m.name, g(people), True, "a a b b c c d d"),
                            lambda: latent.swap(m.model, x_people, x_people,
                                                content_groups=[x_people[[k ^ 1]] for k in range(8)])),
        "interpolate (image + 7x7 grid)": (
            lambda: endpoints.interpolate(m.name, g(group[:1]), g(people[:1]), 0.5, 0.5),
            lambda: (latent.interpolate(m.model, x_group[:1], x_people[:1], 0.5, 0.5),
                     latent.interpolation_grid(m.model, x_group[:1], x_people[:1], weights, weights))),
        "interpolate slider (image)": (
            lambda: endpoints.interpolate_image(m.name, g(group[:1]), g(people[:1]), 0.3, 0.7),
            lambda: latent.interpolate(m.model, x_group[:1], x_people[:1], 0.3, 0.7)),
        "generate 8 from 3": (lambda: endpoints.generate(m.name, g(group[:3]), 8, 0),
                              lambda: latent.generate(m.model, x_group[:3], 8)),
    }
    rows = []
    for name, (handler, model_only) in cases.items():
        cold = timed(handler, repeats, before=clear_cache)
        warm = timed(handler, repeats)
        base = timed(model_only, repeats)
        rows.append((name, *cold, warm[0], base[0]))
    return rows


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(model_args: list[str]) -> tuple[subprocess.Popen, str, float]:
    """Start ``python app.py``; returns the process, its URL and seconds until it served its page."""
    port = free_port()
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", MLVAE_MODELS="")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py", *model_args, "--port", str(port)], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    while True:
        try:
            urllib.request.urlopen(url, timeout=5)
            return proc, url, time.perf_counter() - start
        except OSError:
            if proc.poll() is not None or time.perf_counter() - start > 180:
                proc.kill()
                raise SystemExit("the app did not start: run `python app.py` to see why") from None
            time.sleep(0.05)


def round_trips(
    url: str, models: dict[str, tuple[DemoModel, dict]], repeats: int
) -> list[tuple[str, str, float, float]]:
    """(model, tab, median, p95) ms of requests through gradio_client."""
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False, ssl_verify=False)  # plain HTTP on loopback: no CA bundle loaded per upload
    g = lambda paths: [{"image": handle_file(p), "caption": None} for p in paths]  # noqa: E731
    rows = []
    for kind, (m, files) in models.items():
        for name, call in tab_calls(client, g, m.name, files["group"], files["people"]).items():
            rows.append((kind, name, *timed(call, max(3, repeats // 2))))
    return rows


def tab_calls(client, g: Callable, name: str, group: list, people: list) -> dict[str, Callable[[], object]]:
    """One gradio_client call per tab, for the model ``name``."""
    return {
        "pool 10 photos": lambda: client.predict(name, g(group), api_name="/pool"),
        "swap 8x8": lambda: client.predict(name, g(people), False, "", api_name="/swap"),
        "interpolate slider (image)": lambda: client.predict(name, g(group[:1]), g(people[:1]), 0.3, 0.7,
                                                             api_name="/interpolate_image"),
        "generate 8 from 3": lambda: client.predict(name, g(group[:3]), 8, 0, api_name="/generate"),
        "about": lambda: client.predict(name, api_name="/about"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[],
                        help="checkpoint instead of the shipped ones (repeatable)")
    parser.add_argument("--repeats", type=int, default=20, help="timed requests per figure (default: 20)")
    parser.add_argument("--threads", type=int, default=TORCH_THREADS,
                        help=f"torch CPU threads, as `python app.py --threads` (default: {TORCH_THREADS}, as the app)")
    parser.add_argument("--skip-app", action="store_true", help="skip the start-up time and the round trips")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = Path(os.environ.get("MLVAE_DATA_DIR", ""))
    if not (data / "faces-celeba200").is_dir():
        raise SystemExit("set MLVAE_DATA_DIR to the shared data folder (faces-celeba200 and mnist are read)")
    registry = load_registry(args.model, include_shipped=not args.model)
    if not registry.models:
        raise SystemExit("no checkpoint: ship checkpoints/mnist and checkpoints/faces, or pass --model")
    tmp = tempfile.mkdtemp(prefix="demo-latency-")
    models: dict[str, tuple[DemoModel, dict]] = {}
    for m in registry.models.values():
        if m.kind.name not in models:
            files = digit_inputs(Path(tmp)) if m.is_digits else face_inputs(data)
            models[m.kind.name] = (m, files)

    print(f"torch threads: {torch.get_num_threads()}, repeats: {args.repeats}")
    print(f"{'model':<7} {'tab':<32} {'cold median':>11} {'cold p95':>9} {'warm median':>11} {'model only':>10} "
          f"{'overhead':>8}  goal")
    for kind, (m, files) in models.items():
        for name, cold_med, cold_p95, warm_med, base in bench_model(m, files, args.repeats, tmp):
            goal = GOALS_MS.get((kind, name))
            verdict = "" if goal is None else f"<= {goal} ms: {'met' if cold_med <= goal else 'MISSED'}"
            print(f"{kind:<7} {name:<32} {cold_med:>8.1f} ms {cold_p95:>6.1f} ms {warm_med:>8.1f} ms "
                  f"{base:>7.1f} ms {cold_med / base:>7.1f}x  {verdict}")
    print("\nswap 8x8 by stage, server side (median ms; prepare is cold: the uploads decoded anew):")
    for kind, (m, files) in models.items():
        split = swap_stages(m, files["people"], args.repeats, tmp)
        print(f"{kind:<7} " + " · ".join(f"{stage} {ms:.1f}" for stage, ms in split.items()))
    if args.skip_app:
        return 0
    model_args = [a for source in args.model for a in ("--model", source)] + ["--threads", str(args.threads)]
    proc, url, ready = start_app(model_args)
    try:
        print(f"\napp ready (page served) {ready:.1f} s after `python app.py` started "
              f"(goal <= {READY_GOAL_S} s: {'met' if ready <= READY_GOAL_S else 'MISSED'})")
        print("\nround trips through gradio_client on localhost (uploads and queue included):")
        for kind, name, med, p95 in round_trips(url, models, args.repeats):
            print(f"{kind:<7} {name:<32} median {med:7.1f} ms  p95 {p95:7.1f} ms")
        print("\nswap 8x8 over raw HTTP, by part (median ms; gradio_client adds its own time on top):")
        for kind, (m, files) in models.items():
            split = wire_stages(url, m.name, files["people"], args.repeats)
            print(f"{kind:<7} " + " · ".join(f"{part} {ms:.1f}" for part, ms in split.items()))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
