"""Floods from one client: new sessions past its allowance are refused with a message before Gradio reads them
(each new session costs the server a copy of the page's state), while the sessions it already has keep working;
joins past the queue's size get Gradio's "Queue is full". The server here is this module's own: the flood spends
its address's allowance. Timings are printed, not asserted (``benchmarks/demo_floods.py`` measures them)."""
from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from demo.gradio_internals.session_admission import (
    NEW_SESSION_BURST,
    NEW_SESSIONS_PER_S,
    TOO_MANY,
    SessionAdmission,
    session_in_form,
    session_in_json,
)
from tests.test_hostile_requests import (
    Server,
    event_in_session,
    join,
    measure,
    photos,
    post,
    serving,
    small_png,
    upload,
)


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_address_starts_its_burst_then_a_few_a_second_and_its_sessions_keep_working():
    clock = Clock()
    admission = SessionAdmission(burst=3, per_s=0.5, known=4, addresses=2, clock=clock)
    assert [admission.admit("a", f"s{k}") for k in range(5)] == [True, True, True, False, False]
    assert admission.admit("a", "s0") and admission.admit("a", "s2")  # sessions it has: always
    assert not admission.admit("a", None)  # a REST call naming no session starts one
    assert admission.admit("b", "t0")  # another address has its own allowance
    clock.now = 2.0  # one more a second... half
    assert admission.admit("a", "s5") and not admission.admit("a", "s6")
    assert len(admission.known) <= 4 and len(admission.buckets) <= 2  # bounded, whatever the flood
    for k in range(100):
        admission.admit(f"addr{k}", f"u{k}")
    assert len(admission.known) == 4 and len(admission.buckets) == 2


def test_the_session_a_request_names_is_read_from_its_json_or_form():
    assert session_in_json({"data": [], "session_hash": "abc"}) == "abc"
    assert session_in_json({"session_hash": ["abc"]}) is None and session_in_json([1]) is None
    assert session_in_json(None) is None
    form = b'--b\r\nContent-Disposition: form-data; name="session_hash"\r\n\r\nxyz\r\n--b--\r\n'
    assert session_in_form(form) == "xyz" and session_in_form(b"--b--") is None


@pytest.fixture(scope="module")
def server(cropping_model_args, tmp_path_factory) -> Iterator[Server]:
    yield from serving(cropping_model_args, tmp_path_factory)


def about_event(server: Server) -> int:
    return server.fn_index(lambda d, types: d.get("api_name") == "about")


def test_a_new_session_flood_is_refused_past_the_allowance_and_known_sessions_keep_working(server):
    about = about_event(server)
    mine = uuid.uuid4().hex
    assert event_in_session(server, about, ["mnist"], mine)[1] is None  # a user's session, before the flood
    flood = NEW_SESSION_BURST + 300

    def attack() -> tuple[Counter, set[str], float]:
        started = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: join(server, about, ["mnist"], uuid.uuid4().hex), range(flood)))
        statuses = Counter(status for status, _ in answers)
        refusals = {json.loads(text)["detail"].split(" Max size")[0] for status, text in answers if status != 200}
        return statuses, refusals, time.perf_counter() - started

    measured = measure(server, attack)
    statuses, refusals, seconds = measured.result
    print(f"\n{flood} new-session joins from one address in {seconds:.1f} s: {dict(statuses)}; "
          f"slowest page meanwhile {measured.slowest_page_s:.2f} s")
    # the sessions the flood made (served, or turned away by the full queue): at most the burst and what the
    # allowance refilled meanwhile; the others were refused before Gradio read them
    assert statuses[200] + statuses[503] <= NEW_SESSION_BURST + NEW_SESSIONS_PER_S * seconds + 1, statuses
    assert set(statuses) <= {200, 429, 503} and TOO_MANY in refusals, (statuses, refusals)
    assert refusals <= {TOO_MANY, "Queue is full."}, refusals
    assert event_in_session(server, about, ["mnist"], mine)[1] is None  # the user's session still works
    # this server names no trusted proxy (the default): a forwarding header changes no one's address
    # (the allowance refills meanwhile: at most that many get in, where each made-up address would have its own)
    started = time.monotonic()
    forged = Counter(forwarded_join(server, about, f)[0] for f in ("10.1.2.3", "203.0.113.9, 127.0.0.1", "::1") * 4)
    assert forged[200] + forged[503] <= NEW_SESSIONS_PER_S * (time.monotonic() - started) + 1, forged


def forwarded_join(server: Server, fn_index: int, forwarded: str) -> tuple[int, str]:
    """A join naming a new session, sent with a made-up X-Forwarded-For."""
    body = json.dumps({"data": ["mnist"], "fn_index": fn_index, "session_hash": uuid.uuid4().hex}).encode()
    return post(f"{server.url}gradio_api/queue/join", body, headers={"X-Forwarded-For": forwarded})


def test_joins_past_the_queue_get_a_clear_queue_is_full(server):
    from demo.app import CONCURRENCY, QUEUE_SIZE
    from demo.gradio_internals.page_tokens import SESSIONS_PER_PAGE

    generate = server.fn_index(lambda d, types: d.get("api_name") == "generate")
    digits = photos([upload(server, "digit.png", small_png(3))])
    # 100 visitors (the flood before may have spent this address's allowance: each page load lets its sessions in)
    # each send two joins at once; one session alone gets only a few places (tests/test_hostile_fourth.py)
    cookies = [page_cookie(server) for _ in range(100 // SESSIONS_PER_PAGE)]
    sessions = [(cookies[k // SESSIONS_PER_PAGE], uuid.uuid4().hex) for k in range(100)]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda k: join_with_cookie(server, generate, ["mnist", digits, 32, k],
                                                           *sessions[k // 2]), range(200)))
    statuses = Counter(status for status, _ in answers)
    refusals = {re.sub(r"\d+", "N", json.loads(text)["detail"].split(" Max size")[0].split(" (")[0])
                for status, text in answers if status != 200}
    print(f"\n200 simultaneous joins of 100 sessions: {dict(statuses)} (queue {QUEUE_SIZE}, {CONCURRENCY} computing)")
    assert statuses[200] >= QUEUE_SIZE // 2, statuses
    assert refusals <= {"Queue is full.", "your session already has N requests waiting or running"}, refusals


def page_cookie(server: Server) -> str:
    """Load the page; the cookie (its page token) it came with."""
    with urllib.request.urlopen(server.url, timeout=60) as response:
        response.read()
        return response.headers["set-cookie"].split(";")[0]


def join_with_cookie(server: Server, fn_index: int, data: list, cookie: str, session: str) -> tuple[int, str]:
    """A join in ``session`` sent with a page's cookie."""
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session}).encode()
    return post(f"{server.url}gradio_api/queue/join", body, headers={"Cookie": cookie})
