"""Two Rasa servers and two action servers behind HAProxy (deploy/haproxy.cfg), PostgreSQL for
orders, tickets and conversations, Redis for Rasa's lock store and the web chat's socket.io
rooms: the production set-up of deploy/, on this machine.

50 buyers talk at once through the balancer, so the messages of one conversation land on both
replicas, and each buyer sends three messages at the same moment once (one straight to each
replica, one through the balancer). Afterwards: no message is
lost, no ticket is opened twice, every tracker's events are in order; and an agent reply sent
through replica B reaches a web-chat buyer connected to replica A and is in the conversation
there.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from benchmarks.turns import perf_orders
from bot.db.engine import make_engine, session_scope
from bot.db.tables import Ticket
from bot.config import Settings
from bot.launcher import (
    HARNESS_MESSAGES_PER_CLIENT,
    free_port,
    import_orders,
    rasa_model_loaded,
    server_security_environment,
    start_action_server,
    start_process,
    start_rasa_server,
    wait_until_ready,
)
from bot.services.evidence_store import store_evidence
from tests.conftest import PROJECT_ROOT

pytestmark = [pytest.mark.rasa, pytest.mark.postgres, pytest.mark.slow]

BUYERS = 50
PHONE_LAST4 = "4086"  # the demo headphones order every buyer's order is copied from
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 30000
POSTGRES = os.environ.get(
    "AFTERSALES_TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/aftersales_test"
)
REDIS = os.environ.get("AFTERSALES_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _needs():
    if not shutil.which("haproxy"):
        pytest.skip("没有 haproxy（scripts/ensure_balancer.sh 安装；make test 会先运行它）")
    try:
        import redis

        redis.Redis.from_url(REDIS).ping()
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"Redis 不可用（{REDIS}）：{error}")
    admin = create_engine(make_url(POSTGRES).set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    try:
        admin.connect().close()
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"PostgreSQL 不可用（{POSTGRES}）：{error}")
    return admin


class Cluster:
    def __init__(
        self,
        balancer: str,
        replicas,
        database_url: str,
        evidence_dir: Path,
        relay_token: str,
        api_token: str,
    ) -> None:
        self.api_token = api_token
        self.balancer = balancer
        self.replicas = replicas
        self.database_url = database_url
        self.evidence_dir = evidence_dir
        self.relay_token = relay_token

    def say(self, sender, message, metadata=None, base=None):
        body = {"sender": sender, "message": message, **({"metadata": metadata} if metadata else {})}
        response = requests.post(f"{base or self.balancer}/webhooks/rest/webhook", json=body, timeout=300)
        response.raise_for_status()
        return "\n".join(reply.get("text") or "" for reply in response.json())

    def tracker(self, sender):
        response = requests.get(
            f"{self.replicas[0]}/conversations/{sender}/tracker", params={"token": self.api_token}, timeout=60
        )
        response.raise_for_status()
        return response.json()


@pytest.fixture(scope="module")
def cluster(trained_model, tmp_path_factory):
    admin = _needs()
    workdir = tmp_path_factory.mktemp("cluster")
    names = {kind: f"aftersales_cluster_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("orders", "tracker")}
    with admin.connect() as connection:
        for name in names.values():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server = make_url(POSTGRES)
    orders_url = server.set(database=names["orders"]).render_as_string(hide_password=False)
    tracker_url = server.set(database=names["tracker"]).render_as_string(hide_password=False)
    import_orders(orders_url, perf_orders(PROJECT_ROOT, BUYERS, workdir / "orders.json"))

    relay_token = uuid.uuid4().hex
    api_token = uuid.uuid4().hex  # one shared secret per kind, as deploy/compose.yml passes them
    env = {
        **server_security_environment(api_token, uuid.uuid4().hex, Settings().max_request_bytes),
        "AFTERSALES_DATABASE_URL": orders_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        "AFTERSALES_EVIDENCE_DIR": str(workdir / "evidence"),  # a shared volume in deploy/
        "AFTERSALES_REDIS_URL": REDIS,
        "AFTERSALES_RELAY_TOKEN": relay_token,
        "AFTERSALES_MESSAGING_STATE_DIR": str(workdir / "messaging"),
        "AFTERSALES_MESSAGES_PER_CLIENT": HARNESS_MESSAGES_PER_CLIENT,  # every buyer here is 127.0.0.1
    }
    action_ports = [free_port(), free_port()]
    rasa_ports = [free_port(), free_port()]
    balancer_rasa, balancer_actions = free_port(), free_port()
    processes = [start_action_server(port, env, workdir / f"actions{i}.log") for i, port in enumerate(action_ports)]
    processes.append(
        start_process(
            "balancer",
            ["haproxy", "-db", "-f", str(PROJECT_ROOT / "deploy" / "haproxy.cfg")],
            f"http://127.0.0.1:{balancer_actions}/health",
            {
                "RASA_BIND": f"127.0.0.1:{balancer_rasa}",
                "ACTIONS_BIND": f"127.0.0.1:{balancer_actions}",
                "RASA_1": f"127.0.0.1:{rasa_ports[0]}",
                "RASA_2": f"127.0.0.1:{rasa_ports[1]}",
                "ACTIONS_1": f"127.0.0.1:{action_ports[0]}",
                "ACTIONS_2": f"127.0.0.1:{action_ports[1]}",
            },
            workdir / "haproxy.log",
        )
    )
    # both Rasa replicas call the action servers through the balancer, as in deploy/compose.yml
    rasas = [
        start_rasa_server(
            trained_model,
            port,
            balancer_actions,
            tracker_url,
            env,
            workdir / f"rasa{i}" / "rasa.log",
            api_token=api_token,
        )
        for i, port in enumerate(rasa_ports)
    ]
    processes += rasas
    try:
        for process in processes[:2]:
            wait_until_ready(process, 180)
        for rasa in rasas:
            wait_until_ready(rasa, 600, accept=rasa_model_loaded)
        wait_until_ready(processes[2], 60)
        balanced(f"http://127.0.0.1:{balancer_rasa}/", f"http://127.0.0.1:{balancer_actions}/health")
        yield Cluster(
            f"http://127.0.0.1:{balancer_rasa}",
            [f"http://127.0.0.1:{port}" for port in rasa_ports],
            orders_url,
            workdir / "evidence",
            relay_token,
            api_token,
        )
    finally:
        for process in reversed(processes):
            process.stop()
        with admin.connect() as connection:
            for name in names.values():
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def balanced(*urls, timeout: float = 120) -> None:
    """Until the balancer's health checks have seen every replica up: several answers in a row."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while in_a_row < 6:
        assert time.monotonic() < deadline, f"the balancer never answered from every replica: {urls}"
        try:
            ok = all(requests.get(url, timeout=5).status_code == 200 for url in urls)
        except requests.RequestException:
            ok = False
        in_a_row = in_a_row + 1 if ok else 0
        time.sleep(0.5 if ok else 2)


def buyer_conversation(cluster: Cluster, index: int) -> dict:
    sender = f"cluster-{index:02d}-{uuid.uuid4().hex[:6]}"
    order = f"62019{index:011d}"
    sent = []

    def say(message, metadata=None, base=None):
        sent.append(message)
        return cluster.say(sender, message, metadata, base)

    # three messages of one conversation at the same moment: one to each replica, one through
    # the balancer
    at_once = [("你好", cluster.replicas[0]), ("在吗", cluster.replicas[1]), ("您好", None)]
    with ThreadPoolExecutor(max_workers=len(at_once)) as together:
        list(together.map(lambda pair: say(pair[0], base=pair[1]), at_once))
    say("我买的耳机坏了，右边没声音")
    say(f"订单号 {order}")
    verified = say(PHONE_LAST4)
    stored = store_evidence(PHOTO + uuid.uuid4().bytes, evidence_dir=cluster.evidence_dir)
    decision = say("这是照片", {"attachments": [stored.attachment("耳机.jpg")]})
    return {"sender": sender, "sent": sent, "verified": verified, "decision": decision}


def test_fifty_buyers_across_two_replicas(cluster):
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        conversations = list(pool.map(lambda i: buyer_conversation(cluster, i), range(BUYERS)))

    engine = make_engine(cluster.database_url)
    for conversation in conversations:
        sender = conversation["sender"]
        assert "已核实订单" in conversation["verified"], f"{sender}: {conversation['verified']}"
        assert "Q1" in conversation["decision"], f"{sender}: {conversation['decision']}"

        events = cluster.tracker(sender)["events"]
        user_texts = [event["text"] for event in events if event["event"] == "user"]
        # no lost (or doubled) message: every message sent is in the tracker exactly once
        assert sorted(user_texts) == sorted(conversation["sent"]), sender
        # the messages sent one after another are there in the order they were sent
        assert user_texts[3:] == conversation["sent"][3:], sender
        # events in order: each message was handled to the end (the bot listening again) before
        # the next one started, and no turn's events were saved twice. (Rasa 3.6 stamps an
        # event when it is created, not when it is appended, so timestamps are not an order.)
        keys = [(e["event"], e.get("name") or e.get("text"), e["timestamp"]) for e in events]
        assert len(keys) == len(set(keys)), f"{sender}: events saved twice"
        for position, event in enumerate(events):
            if event["event"] == "user" and position > 0:
                earlier = [e for e in events[:position] if e["event"] in ("user", "action")]
                assert earlier[-1] == {**earlier[-1], "event": "action", "name": "action_listen"}, (
                    f"{sender}: a message began before the previous one was answered"
                )

        with session_scope(engine) as session:
            tickets = session.execute(
                select(func.count()).select_from(Ticket).where(Ticket.conversation_id == sender)
            ).scalar_one()
        assert tickets == 1, f"{sender}: {tickets} tickets"
    with session_scope(engine) as session:
        assert session.execute(select(func.count()).select_from(Ticket)).scalar_one() == BUYERS


def test_agent_reply_crosses_replicas(cluster):
    import socketio

    received, arrived = [], threading.Event()
    session = {}
    client = socketio.Client(reconnection=False)
    client.on("session_confirm", lambda session_id: (session.setdefault("id", session_id), arrived.set()))

    def on_message(message):
        received.append(message)
        if message.get("from_agent"):
            arrived.set()

    client.on("bot_uttered", on_message)
    replica_a, replica_b = cluster.replicas
    client.connect(replica_a, transports=["polling"], wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": None})
        assert arrived.wait(10), "没有收到 session_confirm"
        arrived.clear()
        client.emit("user_uttered", {"message": "你好", "session_id": session["id"], "metadata": {}})
        deadline = time.monotonic() + 120
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert received, "the buyer on replica A got no greeting"

        response = requests.post(
            f"{replica_b}/webhooks/agent_relay/send",
            json={"conversation_id": session["id"], "text": "您好，我是客服小王，正在为您查看。", "agent": "小王"},
            headers={"Authorization": f"Bearer {cluster.relay_token}"},
            timeout=60,
        )
        assert response.status_code == 200, response.text
        assert arrived.wait(30), f"the agent's reply sent through replica B never reached replica A: {received}"
        assert [m["text"] for m in received if m.get("from_agent")] == ["您好，我是客服小王，正在为您查看。"]
        # recorded through the HTTP API of replica B, read back from replica A's
        recorded = [
            (e["text"], e["metadata"]["agent"])
            for e in cluster.tracker(session["id"])["events"]
            if e["event"] == "bot" and (e.get("metadata") or {}).get("agent")
        ]
        assert recorded == [("您好，我是客服小王，正在为您查看。", "小王")]
    finally:
        if client.connected:
            client.eio.disconnect(abort=True)
