"""Rasa's calls to the action server over kept connections (bot/rasa_action_client.py), against
a real HTTP server on this machine: connections are reused, Rasa's request contract holds
(token, JSON answer, errors), and a call after the server closed an idle connection works.
Also the event-class lookup (bot/rasa_patches.py, patch 5) answers as Rasa's own."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

rasa = pytest.importorskip("rasa")
from rasa.shared.core.events import Event, SlotSet, UserUttered  # noqa: E402
from rasa.shared.utils.common import all_subclasses  # noqa: E402
from rasa.utils.endpoints import ClientResponseError, EndpointConfig  # noqa: E402

import bot.rasa_policies  # noqa: E402,F401  (the import the Rasa server does when it loads the model)
from bot import rasa_action_client, rasa_patches  # noqa: E402


class ActionServer:
    """A small webhook: answers with the token it was given, counts the connections it saw;
    closes a connection after `keepalive` idle seconds."""

    def __init__(self, keepalive: float) -> None:
        self.keepalive = keepalive
        self.connections: set = set()
        self.calls = 0

    async def webhook(self, request: web.Request) -> web.Response:
        self.calls += 1
        self.connections.add(request.transport.get_extra_info("peername")[1])
        body = await request.json()
        if body.get("next_action") == "action_refused":
            return web.json_response({"error": "no"}, status=400)
        return web.json_response({"events": [], "token": request.query.get("token"), "echo": body["next_action"]})

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/webhook", self.webhook)
        self.runner = web.AppRunner(app, keepalive_timeout=self.keepalive)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/webhook"

    async def __aexit__(self, *exc) -> None:
        await self.runner.cleanup()


def test_the_patch_is_in_place_once_the_project_is_imported():
    assert getattr(EndpointConfig.session, rasa_action_client.MARKER)
    assert rasa_action_client.install()


def test_calls_share_connections_and_keep_rasas_contract():
    server = ActionServer(keepalive=5)

    async def calls():
        async with server as url:
            endpoint = EndpointConfig(url, token="secret-token")
            answers = [await endpoint.request(json={"next_action": f"action_{n}"}, method="post") for n in range(5)]
            with pytest.raises(ClientResponseError) as refused:
                await endpoint.request(json={"next_action": "action_refused"}, method="post")
            await rasa_action_client.close_kept_sessions()
            return answers, refused.value

    answers, refused = asyncio.run(calls())
    assert [a["echo"] for a in answers] == [f"action_{n}" for n in range(5)]
    assert {a["token"] for a in answers} == {"secret-token"}
    assert refused.status == 400 and b"no" in refused.text
    assert server.calls == 6
    assert len(server.connections) == 1, "six calls, one connection"


def test_a_call_after_the_server_closed_an_idle_connection_works(monkeypatch):
    server = ActionServer(keepalive=0.3)
    monkeypatch.setattr(rasa_action_client, "IDLE_SECONDS", 30.0)  # the client would keep it: the server closes

    async def calls():
        async with server as url:
            endpoint = EndpointConfig(url)
            first = await endpoint.request(json={"next_action": "action_first"}, method="post")
            await asyncio.sleep(2.5)
            second = await endpoint.request(json={"next_action": "action_second"}, method="post")
            await rasa_action_client.close_kept_sessions()
            return first, second

    first, second = asyncio.run(calls())
    assert (first["echo"], second["echo"]) == ("action_first", "action_second")
    assert len(server.connections) == 2


def test_the_client_gives_up_idle_connections_before_the_server_does():
    from sanic.config import DEFAULT_CONFIG

    assert rasa_action_client.IDLE_SECONDS < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]


def test_event_classes_are_those_rasa_finds():
    assert getattr(Event.resolve_by_type, rasa_patches.EVENT_CLASS_MARKER)
    for cls in all_subclasses(Event):
        if getattr(cls, "type_name", None):
            expected = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
            assert Event.resolve_by_type(cls.type_name) is expected
    assert Event.resolve_by_type("slot") is SlotSet and Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")


def test_request_bodies_read_back_as_the_standard_library_writes_them():
    from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

    tracker = DialogueStateTracker.from_events(
        "buyer-json",
        [
            UserUttered("耳机坏了 / 右边没声音", {"name": "complain", "confidence": 0.8734512398123}),
            SlotSet("order_id", "6201400000000001"),
            SlotSet("refund_amount", 199.9),
        ],
    )
    state = {"next_action": "action_check_order", "tracker": tracker.current_state(EventVerbosity.ALL)}
    import json

    assert json.loads(rasa_action_client.request_body(state)) == json.loads(json.dumps(state))
    assert json.loads(rasa_action_client.request_body({"score": float("inf")}))["score"] == float("inf")


def test_a_domain_written_once_reads_back_whole_in_every_body():
    """The domain's JSON is kept per domain dict: each body still carries the whole domain, and
    a new domain (a model replaced) is written anew, not the kept one."""
    import json

    from rasa.shared.core.domain import Domain

    first = Domain.from_dict({"intents": ["greet"], "responses": {"utter_hi": [{"text": "你好"}]}}).as_dict()
    second = Domain.from_dict({"intents": ["bye"], "responses": {"utter_bye": [{"text": "再见"}]}}).as_dict()
    for turn, domain in enumerate((first, first, second, first)):
        call = {"next_action": "action_decide_case", "sender_id": f"buyer-{turn}", "domain": domain}
        assert json.loads(rasa_action_client.request_body(call)) == json.loads(json.dumps(call))
    assert json.loads(rasa_action_client.request_body({"domain": first})) == {"domain": first}


def test_a_finished_event_loop_leaves_no_unclosed_session(tmp_path):
    """Each asyncio.run (a test, a CLI command) gets its own loop and sessions; when the loop is
    gone they are closed, so nobody is told of an unclosed session at exit."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "two_loops.py"
    script.write_text(
        """
import asyncio, gc
from aiohttp import web
import bot.rasa_policies
from rasa.utils.endpoints import EndpointConfig

async def one_call():
    app = web.Application()
    async def webhook(request):
        return web.json_response({"events": []})
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(await EndpointConfig(f"http://127.0.0.1:{port}/webhook").request(json={}, method="post"))
    await runner.cleanup()

asyncio.run(one_call()); gc.collect()
asyncio.run(one_call()); gc.collect()
""",
        encoding="utf-8",
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=root,
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("{'events': []}") == 2
    assert "Unclosed" not in done.stderr + done.stdout
