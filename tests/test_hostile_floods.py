"""Floods from one client: new sessions past its allowance are refused with a message before Gradio reads them
(each new session costs the server a copy of the page's state), while the sessions it already has keep working;
joins past the queue's size get Gradio's "Queue is full". The server here is this module's own: the flood spends
its address's allowance. Timings are printed, not asserted (``benchmarks/demo_floods.py`` measures them)."""
from __future__ import annotations

import json
import time
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


def test_joins_past_the_queue_get_a_clear_queue_is_full(server):
    from demo.app import CONCURRENCY, QUEUE_SIZE

    generate = server.fn_index(lambda d, types: d.get("api_name") == "generate")
    session = uuid.uuid4().hex  # one session (known after its first join) sends them all at once
    # the flood test before this one may have spent this address's allowance: it refills at NEW_SESSIONS_PER_S
    deadline = time.monotonic() + 3 / NEW_SESSIONS_PER_S
    while (status := join(server, about_event(server), ["mnist"], session)[0]) == 429 and time.monotonic() < deadline:
        time.sleep(0.5 / NEW_SESSIONS_PER_S)
    assert status == 200
    digits = photos([upload(server, "digit.png", small_png(3))])
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda seed: join(server, generate, ["mnist", digits, 32, seed], session),
                                range(200)))
    statuses = Counter(status for status, _ in answers)
    refusals = {json.loads(text)["detail"].split(" Max size")[0] for status, text in answers if status != 200}
    print(f"\n200 simultaneous joins: {dict(statuses)} (queue {QUEUE_SIZE}, {CONCURRENCY} computing)")
    assert statuses[200] >= QUEUE_SIZE and refusals <= {"Queue is full."}, (statuses, refusals)
