"""Hostile requests, fourth round (issue 31): forged forwarding headers, one client flooding from an address that
strangers share, one session flooding the queue, an upload flood, and what a session costs. The server attacks run
against the real app on loopback, bounded in count and time. Its server trusts one proxy, ``PROXY`` (all of 127/8 is
this machine: a client that binds its connection to 127.0.0.2 is that proxy), and caps its upload folder at
``UPLOAD_CAP_MB``. The parts' own rules are tested first, with a clock the test moves."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from demo.gradio_internals.forwarding import UVICORN_VAR, configured_proxies, parse_proxies, trust_proxies
from demo.gradio_internals.page_tokens import COOKIE, SESSIONS_PER_PAGE, PageTokens, cookie_value, set_cookie
from demo.gradio_internals.session_admission import (
    NEW_SESSION_BURST,
    NEW_SESSIONS_PER_S,
    TOO_MANY,
    SessionAdmission,
)
from demo.gradio_internals.upload_space import (
    UPLOAD_BYTES_PER_MINUTE,
    ByteBudgets,
    UploadSpace,
    folder_bytes,
)
from tests.test_hostile_floods import Clock
from tests.test_hostile_requests import Server, outcome, photos, serving, small_png, upload

PROXY = "127.0.0.2"
UPLOAD_CAP_MB = 300
MB = 1 << 20


# ---- the rules, with a clock the test moves ----------------------------------------------------------------
def test_page_tokens_admit_their_page_s_sessions_and_cannot_be_made_by_a_client():
    clock = Clock()
    clock.now = 1_000_000.0
    tokens = PageTokens(clock=clock)
    token = tokens.issue()
    assert [tokens.redeem(token) for _ in range(SESSIONS_PER_PAGE + 2)] == [True] * SESSIONS_PER_PAGE + [False] * 2
    issued, nonce, mac = tokens.issue().split(".")
    forged = [f"{issued}.{nonce}.{'0' * 32}", f"{issued}.{'f' * 16}.{mac}", f"{int(issued, 16) + 1:x}.{nonce}.{mac}",
              "x" * 5000, "", None, "a.b.c", PageTokens(clock=clock).issue()]  # the last: another server's key
    assert not any(tokens.redeem(t) for t in forged)
    fresh = tokens.issue()
    clock.now += 3601  # an hour later: expired
    assert tokens.page_of(fresh) is None and not tokens.redeem(fresh)
    headers = [(b"cookie", f"a=1; {COOKIE}={token}; b=2".encode())]
    assert cookie_value(headers) == token and cookie_value([(b"cookie", b"a=1")]) is None
    assert b"SameSite=Lax" in set_cookie(token, secure=False) and b"HttpOnly" in set_cookie(token, secure=False)
    assert b"SameSite=None; Secure; Partitioned" in set_cookie(token, secure=True)


def test_a_page_s_token_starts_its_sessions_when_its_address_has_none_left():
    tokens = PageTokens()
    admission = SessionAdmission(burst=2, per_s=0.0, clock=Clock(), tokens=tokens)
    assert [admission.admit("shared", f"flood{k}") for k in range(4)] == [True, True, False, False]
    page = tokens.issue()
    assert admission.admit("shared", "stranger", page)  # the stranger's page load earned it
    assert admission.admit("shared", "stranger") and admission.admit("shared", "stranger")  # a known session
    assert not admission.admit("shared", None, page)  # a REST call naming no session: the address's allowance
    assert not admission.admit("shared", "flood9", "made.up.token")


def test_trusted_proxies_are_none_unless_named_and_each_is_checked(monkeypatch):
    monkeypatch.delenv("MLVAE_TRUSTED_PROXIES", raising=False)
    monkeypatch.setenv(UVICORN_VAR, "127.0.0.1")  # uvicorn's own default
    assert configured_proxies(None) == []
    trust_proxies(configured_proxies(None))
    assert os.environ[UVICORN_VAR] == ""  # uvicorn trusts no one: 127.0.0.1 is not trusted silently
    monkeypatch.setenv("MLVAE_TRUSTED_PROXIES", "10.0.0.5, 10.1.0.0/16")
    assert configured_proxies(None) == ["10.0.0.5", "10.1.0.0/16"]
    assert configured_proxies("::1 192.168.1.1") == ["::1", "192.168.1.1"]  # the flag before the variable
    for bad in ("*", "proxy.example.com", "10.0.0.300", "10.0.0.0/99"):
        with pytest.raises(ValueError, match="is not an IP address or network"):
            parse_proxies(bad)


@pytest.mark.parametrize("args, words", [
    (["--trusted-proxies", "*"], "trusted proxy '*' is not an IP address or network"),
    (["--trusted-proxies", "10.0.0.1,proxy.local"], "trusted proxy 'proxy.local' is not an IP address"),
    (["--upload-cap-mb", "0"], "--upload-cap-mb must be at least 1"),
])
def test_the_demo_refuses_a_proxy_or_cap_it_cannot_use_at_start(args, words):
    import subprocess
    import sys

    from tests.demo_server import REPO

    result = subprocess.run([sys.executable, "app.py", *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_upload_budgets_refill_a_minute_s_worth_per_sender():
    clock = Clock()
    budgets = ByteBudgets(per_minute=100, senders=2, clock=clock)
    assert [budgets.take("a", 40) for _ in range(3)] == [True, True, False]
    assert budgets.take("b", 100)  # another sender has its own
    clock.now = 30.0  # half a minute: half the budget back, on top of the 20 left
    assert budgets.take("a", 70) and not budgets.take("a", 1)
    for k in range(50):
        budgets.take(f"s{k}", 1)
    assert len(budgets.buckets) == 2  # bounded, whatever the flood


def write(path: Path, size: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(size))
    return str(path)


def test_the_upload_folder_keeps_under_its_cap_sweeping_unused_uploads_first(tmp_path):
    clock = Clock()
    space = UploadSpace(tmp_path, cap=1000, unused_s=300, sweep_every_s=30, clock=clock)
    files = []
    for k in range(4):  # 4 uploads of 200 bytes, a second apart; the second is used by an event
        clock.now = float(k)
        assert space.reserve(200)
        files.append(write(tmp_path / f"h{k}" / f"photo{k}.png", 200))
        space.received(200, [files[-1]])
    space.use([files[1]])
    assert folder_bytes(tmp_path) == 800
    assert space.reserve(400)  # 1,200 > 1,000: the oldest unused upload goes, the used one stays
    assert not Path(files[0]).exists() and Path(files[1]).exists() and not (tmp_path / "h0").exists()
    space.received(400, [write(tmp_path / "h9" / "big.png", 400)])
    assert folder_bytes(tmp_path) <= 1000
    assert not space.reserve(2000)  # more than the cap: refused, nothing is swept for it in vain
    assert Path(files[1]).exists()
    clock.now = 400.0  # 5 minutes on: the unused uploads are deleted, the used one kept
    space.sweep_if_due()
    assert [Path(f).exists() for f in files] == [False, True, False, False]
    assert space.held == folder_bytes(tmp_path) == 200


def test_a_session_s_state_is_gradio_s_less_the_page_copy():
    import gradio as gr
    from gradio.state_holder import SessionState

    from demo.gradio_internals.blocks import DemoBlocks
    from demo.gradio_internals.lean_sessions import LeanSessionState

    with DemoBlocks() as blocks:
        text, state = gr.Textbox(label="a"), gr.State([1])
        text.change(lambda x: x, text, text)
    gradio_s, lean = SessionState(blocks), LeanSessionState(blocks)
    assert set(vars(gradio_s)) == set(vars(lean))  # the same fields (re-check on a Gradio upgrade)
    assert gradio_s.config_values and not lean.config_values
    lean[state._id] = [2]
    lean[text._id] = gr.Textbox(label="b", render=False)
    assert lean[state._id] == [2] and lean[text._id].label == "b" and not lean.config_values
    other = LeanSessionState(blocks)
    other[text._id] = gr.Textbox(label="b", render=False)
    assert other[text._id] is lean[text._id]  # the same update's block, shared by the sessions


def test_the_memory_keeps_short_labels_and_one_string_per_path():
    from demo.galleries.memory import MAX_LABEL_CHARS, kept

    assert kept("swap_labels", "a b") == "a b" and kept("swap_labels", "x" * (MAX_LABEL_CHARS + 1)) == ""
    first = kept("pool", [{"image": {"path": "/up/" + "p" * 200}}])
    second = kept("pool", [{"image": {"path": "/up/" + "p" * 200}}])
    assert first == second and first[0] is second[0]


# ---- the real server -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(cropping_model_args, tmp_path_factory) -> Iterator[Server]:
    yield from serving(cropping_model_args, tmp_path_factory,
                       env={"MLVAE_TRUSTED_PROXIES": PROXY, "MLVAE_UPLOAD_CAP_MB": str(UPLOAD_CAP_MB)})


def send(server: Server, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
         source: str = "127.0.0.1") -> tuple[int, str, str]:
    """One request from the loopback address ``source``: the status, the answer and its Set-Cookie."""
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace"), response.getheader("set-cookie") or ""
    finally:
        connection.close()


def join_from(server: Server, fn_index: int, data: list, session: str, cookie: str = "", forwarded: str = "",
              source: str = "127.0.0.1") -> tuple[int, str]:
    """A queue join from ``source``, with a page's cookie and an X-Forwarded-For header when given."""
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {}),
               **({"X-Forwarded-For": forwarded} if forwarded else {})}
    body = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                       "trigger_id": None}).encode()
    status, text, _ = send(server, "POST", "/gradio_api/queue/join", body, headers, source)
    return status, text


def page_load(server: Server) -> str:
    """Load the page as a browser does; the cookie it came with."""
    status, _, cookie = send(server, "GET", "/")
    assert status == 200 and cookie.startswith(f"{COOKIE}="), cookie
    return cookie.split(";")[0]


def detail(text: str) -> str:
    return json.loads(text).get("detail", text)


def about(server: Server) -> int:
    return server.fn_index(lambda d, types: d.get("api_name") == "about")


def first_event(server: Server) -> int:
    """The event a page sends first: the page's load (it fills in the examples)."""
    return server.fn_index(lambda d, types: any(t[1] == "load" for t in d.get("targets", [])))


def drain_allowance(server: Server) -> Counter:
    """New sessions from 127.0.0.1, with no page, until its allowance is spent; the answers by status."""
    event = about(server)
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: join_from(server, event, ["mnist"], uuid.uuid4().hex),
                                range(NEW_SESSION_BURST + 60)))
    statuses = Counter(status for status, _ in answers)
    assert statuses[429] and {detail(t) for s, t in answers if s == 429} == {TOO_MANY}, statuses
    return statuses


def test_a_session_costs_at_most_250_kB_with_full_galleries(server):
    from benchmarks.session_cost import MAX_SESSION_KB, measure

    costs = measure(server.url, server.pid, 80, ("mnist", "faces"))
    print(f"\nkB a session: {costs}")
    full, refused = costs.values()
    assert full <= MAX_SESSION_KB, costs
    assert refused <= MAX_SESSION_KB / 5, costs  # 680 kB before


def test_forged_forwarding_headers_gain_nothing_unless_a_trusted_proxy_sends_them(server):
    event, new = about(server), lambda: uuid.uuid4().hex
    drain_allowance(server)
    deep_link = send(server, "GET", f"/gradio_api/deep_link?session_hash={new()}")[0]
    assert deep_link == 404  # Gradio's route that writes a session's values to disk on every call
    forged = ["10.9.8.7", "203.0.113.5, 127.0.0.1", f"198.51.100.1, {PROXY}", "::1"] * 5
    statuses = spent_allowance(lambda k: join_from(server, event, ["mnist"], new(), forwarded=forged[k]), 20)
    print(f"\n20 joins with made-up X-Forwarded-For headers: {dict(statuses)}")
    # through the trusted proxy, the address it forwards counts: the flooder's has nothing left (checked first, as
    # the joins above have just spent what it refilled), each other client has its own allowance
    spent_allowance(lambda k: join_from(server, event, ["mnist"], new(), forwarded="127.0.0.1", source=PROXY), 10)
    through = [join_from(server, event, ["mnist"], new(), forwarded=f"10.0.0.{k}", source=PROXY)[0] for k in range(5)]
    assert all(s in (200, 503) for s in through), through  # admitted (503: the queue was full of the flood)


def spent_allowance(new_session: Callable[[int], tuple[int, str]], count: int) -> Counter:
    """Send ``count`` requests that each start a session (``new_session(k)``) from an address whose allowance is
    spent: each is refused but for what the allowance refilled meanwhile. Their statuses."""
    started = time.monotonic()
    answers = [new_session(k) for k in range(count)]
    refilled = NEW_SESSIONS_PER_S * (time.monotonic() - started) + 1
    statuses = Counter(status for status, _ in answers)
    assert statuses[200] + statuses[503] <= refilled and statuses[429] >= count - refilled, statuses
    assert {detail(t) for s, t in answers if s == 429} == {TOO_MANY}
    return statuses


@contextlib.contextmanager
def flooding(server: Server) -> Iterator[Counter]:
    """One client flooding the shared address 127.0.0.1 with new sessions and no page, 10 a second (the attack sent
    3), its allowance spent first; yields the flood's answers by status (complete once the block has ended)."""
    event, stop, flood = about(server), threading.Event(), Counter()
    drain_allowance(server)

    def flooder() -> None:
        while not stop.wait(0.1):
            flood[join_from(server, event, ["mnist"], uuid.uuid4().hex)[0]] += 1

    thread = threading.Thread(target=flooder)
    thread.start()
    started = time.monotonic()
    try:
        yield flood
    finally:
        stop.set()
        thread.join()
    seconds = time.monotonic() - started
    # the address's allowance stayed empty meanwhile: the flood got only what refilled (2 a second)
    assert flood[429] >= 20 and flood[200] + flood[503] <= NEW_SESSIONS_PER_S * seconds + 2, flood


def test_one_client_flooding_a_shared_address_does_not_lock_out_fresh_page_loads(server):
    load, answered = first_event(server), 0
    with flooding(server) as flood:
        for _ in range(10):  # strangers behind the same address, one every 0.5 s: each loads the page, then sends
            time.sleep(0.5)  # its first event
            cookie, session = page_load(server), uuid.uuid4().hex
            status, _ = join_from(server, load, ["faces"], session, cookie=cookie)
            answered += status == 200 and bool(outcome(server, session).get("success"))
        # without a page's token strangers are refused like the flood, as before: the token is what let them in
        spent_allowance(lambda k: join_from(server, about(server), ["mnist"], uuid.uuid4().hex), 10)
    print(f"\n10 fresh page loads during the flood: {answered} answered; the flood's joins: {dict(flood)}")
    assert answered >= 9


def test_a_browser_s_page_works_while_a_flood_keeps_its_address_s_allowance_empty(server, tmp_path):
    from tests.demo_page import Page, chromium

    with flooding(server) as flood, chromium() as driver:  # Chromium connects from 127.0.0.1, the flooded address
        page = Page(driver, server.url, tmp_path)
        page.open(1200, 900)  # the page's load, then each tab's first results: its page token let its session in
        assert page.css("#pool-sheet img")
    print(f"\nthe flood's joins meanwhile: {dict(flood)}")


def test_a_session_that_floods_the_queue_is_refused_before_the_others(server):
    from demo.app import QUEUE_SIZE

    generate = server.fn_index(lambda d, types: d.get("api_name") == "generate")
    digits = photos([upload(server, "digit.png", small_png(3))])
    cookie, flooding = page_load(server), uuid.uuid4().hex
    with ThreadPoolExecutor(16) as pool:  # as the attack: one session's 200 joins at once took the whole queue
        answers = list(pool.map(lambda seed: join_from(server, generate, ["mnist", digits, 32, seed], flooding, cookie),
                                range(200)))
    statuses = Counter(status for status, _ in answers)
    refusals = {detail(t).split(" requests")[0].rstrip("0123456789 ") for s, t in answers if s != 200}
    print(f"\n200 simultaneous joins of one session: {dict(statuses)}")
    # at most MAX_EVENTS_PER_SESSION at a time (more over the burst, as its first events end): never the whole queue
    assert statuses[200] < QUEUE_SIZE and statuses[429] > 200 - QUEUE_SIZE, statuses
    assert refusals == {"your session already has"}, refusals
    other_cookie, other = page_load(server), uuid.uuid4().hex  # another visitor still gets its answer
    assert join_from(server, generate, ["mnist", digits, 2, 0], other, other_cookie)[0] == 200
    assert outcome(server, other).get("success")


def upload_as(server: Server, data: bytes, cookie: str = "") -> tuple[int, str]:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="flood.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", **({"Cookie": cookie} if cookie else {})}
    status, text, _ = send(server, "POST", "/gradio_api/upload", body, headers)
    return status, text


def test_an_upload_flood_is_refused_past_its_budget_and_the_folder_stays_under_its_cap(server):
    folder, cap = server.log.parent / "uploads", UPLOAD_CAP_MB * MB
    generate = server.fn_index(lambda d, types: d.get("api_name") == "generate")
    used, unused = upload(server, "used.png", small_png(21)), upload(server, "unused.png", small_png(22))
    session = uuid.uuid4().hex
    assert join_from(server, generate, ["mnist", photos([used]), 2, 0], session, page_load(server))[0] == 200
    assert outcome(server, session).get("success")  # an event used it
    block = os.urandom(20 * MB)
    chunk = lambda k: k.to_bytes(8, "big") + block  # noqa: E731  distinct files (Gradio stores them by content)
    stop, peak = threading.Event(), [0]

    def watch() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], folder_bytes(folder))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(4) as pool:  # the attack: 600 MB from one client without a page, as fast as it can
            first = list(pool.map(lambda k: upload_as(server, chunk(k)), range(30)))
        seconds = time.monotonic() - started
        pages = [page_load(server) for _ in range(3)]  # then within three pages' budgets, 540 MB, past the cap
        with ThreadPoolExecutor(4) as pool:
            second = list(pool.map(lambda k: upload_as(server, chunk(100 + k), pages[k % 3]), range(27)))
    finally:
        stop.set()
        watcher.join()
    statuses = Counter(status for status, _ in first)
    print(f"\n600 MB of uploads from one client in {seconds:.1f} s: {dict(statuses)}; then 540 MB from 3 pages: "
          f"{dict(Counter(s for s, _ in second))}; the folder's peak {peak[0] / MB:.0f} MB (cap {UPLOAD_CAP_MB})")
    assert statuses[200] * 20 * MB <= UPLOAD_BYTES_PER_MINUTE + 20 * MB * seconds / 60 + 20 * MB, statuses
    assert statuses[429] >= 19 and {detail(t).split(":")[0] for s, t in first if s == 429} == \
        {"too many uploads from you"}, statuses
    assert all(status == 200 for status, _ in second), Counter(s for s, _ in second)  # room made by sweeping
    assert peak[0] <= cap and folder_bytes(folder) <= cap
    assert Path(used).exists() and not Path(unused).exists()  # the unused, older uploads were swept first
