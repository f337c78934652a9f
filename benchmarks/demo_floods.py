"""Floods against the real app on loopback, as an attack sends them, and how fast the page answers meanwhile.

    python -m benchmarks.demo_floods                        # the shipped checkpoints
    python -m benchmarks.demo_floods --model runs/x/best --name x

Starts ``python app.py``, times page requests with nothing else running (the baseline), then: ``--joins``
(200) simultaneous joins of one session (it may have MAX_EVENTS_PER_SESSION waiting or running, the rest are
refused) and ``--sessions`` (2,000) joins each naming a new session from one address, with no page loaded, from 16
threads (past the address's allowance they are refused before Gradio reads them; both rules are
``demo.gradio_internals.session_admission``). For each it
prints the answers by HTTP status and the page's median, p95 and slowest time while it ran. The attacker shares
the machine's cores with the server, so on a small machine the figures are upper bounds. Bounded: stops by itself.
"""
from __future__ import annotations

import argparse
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from benchmarks.demo_latency import percentiles, start_app
from demo.app import QUEUE_SIZE
from demo.gradio_internals.session_admission import MAX_EVENTS_PER_SESSION, NEW_SESSION_BURST, NEW_SESSIONS_PER_S

THREADS = 16  # the attacker's concurrent connections
T = TypeVar("T")


def post_json(url: str, body: dict) -> int:
    """POST a JSON body; the HTTP status."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def page_times(url: str, during: Callable[[], T]) -> tuple[T, list[float], float]:
    """Run ``during`` while fetching the page at ``url`` every 50 ms (at least once); what it returned, the page
    times and its seconds."""
    done, pages = threading.Event(), []

    def probe() -> None:
        while True:
            started = time.perf_counter()
            urllib.request.urlopen(url, timeout=60).read()
            pages.append(time.perf_counter() - started)
            if done.wait(0.05):
                return

    prober = threading.Thread(target=probe)
    prober.start()
    started = time.perf_counter()
    try:
        answers = during()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        prober.join()
    return answers, pages, seconds


def report(what: str, answers: Counter, pages: list[float], seconds: float) -> None:
    """One line: the answers by status and the page's times."""
    median, p95 = percentiles(pages)
    print(f"{what}: {seconds:.1f} s, answers {dict(sorted(answers.items()))}; page median {median:.0f} ms, "
          f"p95 {p95:.0f} ms, slowest {max(pages) * 1e3:.0f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", action="append", default=[], help="checkpoint instead of the shipped ones")
    parser.add_argument("--name", default="mnist", help="the model the requests name (default: mnist)")
    parser.add_argument("--joins", type=int, default=200, help="simultaneous joins of one session")
    parser.add_argument("--sessions", type=int, default=2000, help="joins each naming a new session")
    args = parser.parse_args()
    proc, url, _ = start_app([a for m in args.model for a in ("--model", m)])
    try:
        config = json.load(urllib.request.urlopen(f"{url}config", timeout=30))
        about = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "about")
        join = f"{url}gradio_api/queue/join"

        def joins(sessions: Callable[[int], str], count: int) -> Counter:
            body = lambda k: {"data": [args.name], "fn_index": about, "session_hash": sessions(k)}  # noqa: E731
            with ThreadPoolExecutor(THREADS) as pool:
                return Counter(pool.map(lambda k: post_json(join, body(k)), range(count)))

        print(f"queue: {QUEUE_SIZE} waiting, {MAX_EVENTS_PER_SESSION} a session; new sessions: {NEW_SESSION_BURST} "
              f"an address at once, then {NEW_SESSIONS_PER_S:g} a second")
        report("baseline (nothing else running)", *page_times(url, lambda: Counter(time.sleep(3) or ())))
        one = uuid.uuid4().hex
        report(f"{args.joins} simultaneous joins, one session", *page_times(url, lambda: joins(lambda k: one,
                                                                                                args.joins)))
        time.sleep(5)  # the queue drains
        report(f"{args.sessions} joins naming new sessions",
               *page_times(url, lambda: joins(lambda k: uuid.uuid4().hex, args.sessions)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
