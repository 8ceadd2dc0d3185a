"""Finding 6 of issue 13: throttles (the `limits` library; Redis when configured).

Phone digits fell to one new conversation per guess; console passwords could be tried at 14
per second and the right one still worked afterwards; uploads had no quota."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from bot.config import PROJECT_ROOT, get_settings
from bot.db.engine import make_engine, session_scope
from bot.db.schema import upgrade_database
from bot.services import security_audit
from bot.services.order_import import import_orders
from bot.services.clock import shop_today
from bot.services.verification_guard import check_owner
from tests.security.conftest import LOCKED_AGENT, demo_orders

HEADPHONES = next(order for order in demo_orders() if order.get("customer_id") == "shop-c-10021")


@pytest.fixture
def order_database(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'aftersales.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        data = json.loads((PROJECT_ROOT / "shop" / "demo_orders.json").read_text(encoding="utf-8"))
        assert import_orders(session, data, shop_today()).ok
    monkeypatch.setenv("AFTERSALES_DATABASE_URL", url)
    monkeypatch.setenv("AFTERSALES_VERIFY_ATTEMPTS_PER_ORDER", "4/hour")
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    engine.dispose()


def test_wrong_digits_for_one_order_lock_it_across_conversations_with_an_audit_row(order_database):
    number, right = str(HEADPHONES["order_id"]), HEADPHONES["buyer_phone"][-4:]
    wrong = [f"{n:04d}" for n in range(10000) if f"{n:04d}" != right][:4]
    with session_scope(order_database) as session:
        assert check_owner(session, number, right, conversation_id="c-0").verified
        outcomes = [
            check_owner(session, number, digits, conversation_id=f"c-{i + 1}") for i, digits in enumerate(wrong)
        ]
    assert [o.locked for o in outcomes] == [False, False, False, True]
    with session_scope(order_database) as session:
        after = check_owner(session, number, right, conversation_id="c-9")
        assert not after.verified and after.locked, "锁定后正确的尾号也不能再核实"
        other = next(order for order in demo_orders() if str(order["order_id"]) != number)
        assert check_owner(session, str(other["order_id"]), other["buyer_phone"][-4:]).verified
        [row] = security_audit.events(session, security_audit.VERIFICATION_LOCKED)
        assert row.subject == number and row.conversation_id == "c-4"
        assert right not in json.dumps(row.details) and not any(w in json.dumps(row.details) for w in wrong)


@pytest.mark.rasa
def test_phone_guesses_from_new_conversations_end_in_a_lock_out_offering_a_person(secured):
    number, right = str(HEADPHONES["order_id"]), HEADPHONES["buyer_phone"][-4:]
    guesses = [f"{n:04d}" for n in range(10000) if f"{n:04d}" != right][:12]
    told = []
    for digits in guesses:  # one new conversation per guess, as the tester did
        sender = "guess-" + uuid.uuid4().hex[:8]
        secured.say(sender, "查物流")
        secured.say(sender, f"订单号 {number}")
        told.append(" ".join(reply.get("text") or "" for reply in secured.say(sender, digits)))
    assert "人工" in told[-1], told[-1]
    sender = "owner-" + uuid.uuid4().hex[:8]
    secured.say(sender, "查物流")
    secured.say(sender, f"订单号 {number}")
    owner = " ".join(reply.get("text") or "" for reply in secured.say(sender, right))
    assert "已核实订单" not in owner and "人工" in owner


@pytest.mark.rasa
def test_console_logins_are_locked_per_account_even_for_the_right_password(secured):
    url = secured.url("/console/api/login")
    statuses = [
        requests.post(url, json={"username": LOCKED_AGENT[0], "password": f"wrong-{i}"}, timeout=30).status_code
        for i in range(8)
    ]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429, statuses
    right = requests.post(url, json={"username": LOCKED_AGENT[0], "password": LOCKED_AGENT[1]}, timeout=30)
    assert right.status_code == 429 and "分钟后再试" in right.json()["error"]
    assert int(right.headers["Retry-After"]) > 0


@pytest.mark.rasa
def test_uploads_are_limited_per_client(secured):
    limit = int(get_settings().uploads_per_client.split("/")[0])
    url = secured.url("/webhooks/webchat/upload")
    statuses = [
        requests.post(url, files={"file": ("note.txt", b"not a photo", "text/plain")}, timeout=30).status_code
        for _ in range(limit + 1)
    ]
    # other tests of this server may have uploaded from this address already: at most `limit` pass
    assert statuses[-1] == 429 and len([status for status in statuses if status != 429]) <= limit, statuses
    first_refused = statuses.index(429)
    assert set(statuses[first_refused:]) == {429}, statuses


def test_throttles_built_at_once_on_worker_threads_build_one_storage(monkeypatch):
    """The action server runs actions on worker threads; the first throttles of a process are
    built at the same moment, and building a storage imports the Redis client. Two threads doing
    that together once gave an action "partially initialized module 'redis'" (a cluster run):
    one thread builds, the others wait and share what it built."""
    import threading
    import time

    from bot import throttles

    built = []
    real_storage = throttles.storage_from_string

    def slow_storage(url):
        built.append(url)
        time.sleep(0.2)  # as long as an import of the client can take on a busy machine
        return real_storage("memory://")

    monkeypatch.setattr(throttles, "storage_from_string", slow_storage)
    url = f"memory://?test={uuid.uuid4().hex}"
    start = threading.Barrier(8)
    made = []

    def build():
        start.wait()
        made.append(throttles.Throttle("verify-order", "5/hour", url)._limiter)

    workers = [threading.Thread(target=build) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert built == [url]
    assert len({id(limiter) for limiter in made}) == 1
