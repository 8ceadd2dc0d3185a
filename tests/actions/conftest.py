"""The custom actions run in-process against a real, migrated SQLite database holding the demo
orders, with rasa_sdk trackers built from realistic event lists and the project's real domain.

Each test gets its own copy of that database: `AFTERSALES_DATABASE_URL` points at it and the
caches that remember the previous URL (settings, the actions' engine) are cleared before and
after, so no test sees another's tickets and the rest of the suite sees the old settings.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from bot import bootstrap
from bot.config import PROJECT_ROOT, Settings, get_settings
from bot.db import session_scope
from bot.db.engine import make_engine, shared_engine
from bot.db.schema import forget_migrated_engines, upgrade_database
from bot.db.tables import Handoff, Ticket
from bot.services.clock import shop_today
from bot.services.order_import import import_orders

DEMO_ORDERS_FILE = PROJECT_ROOT / "shop" / "demo_orders.json"
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")

# demo orders the tests talk about (shop/demo_orders.json)
OWN_ORDER = "6201458839270153"  # customer shop-c-10021, phone …4086, headphones, delivered 2 days ago
OWN_ORDER_CUSTOMER = "shop-c-10021"
OWN_ORDER_PHONE_LAST4 = "4086"
TWO_ITEM_ORDER = "1358024679135802"  # customer shop-c-10388, phone …3018, toothbrush + brush heads
TWO_ITEM_ORDER_PHONE_LAST4 = "3018"
IN_TRANSIT_ORDER = "3390618275546108"  # cross-border, not delivered yet


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite file migrated by the project's own migrations and holding the demo orders
    (imported once per session; each test works on a copy)."""
    path = tmp_path_factory.mktemp("actions-db") / "template.db"
    url = f"sqlite:///{path}"
    upgrade_database(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        report = import_orders(session, json.loads(DEMO_ORDERS_FILE.read_text(encoding="utf-8")), shop_today())
    engine.dispose()  # the last connection folds the WAL back into the file
    assert report.ok, report.summary()
    assert not Path(f"{path}-wal").exists()
    return path


@pytest.fixture
def database_url(demo_database: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh copy of the demo database, made the actions' database for one test.

    Each test needs its own: the policy counts earlier conversations about an order (the third
    one escalates), so tickets left by another test would change the decisions."""
    path = tmp_path / "aftersales.db"
    shutil.copyfile(demo_database, path)
    url = f"sqlite:///{path}"
    patch = pytest.MonkeyPatch()
    patch.setenv("AFTERSALES_DATABASE_URL", url)
    patch.setenv("AFTERSALES_EVIDENCE_DIR", str(tmp_path / "evidence"))
    patch.delenv("AFTERSALES_IDENTITY_CHANNELS", raising=False)
    get_settings.cache_clear()  # what still reads the environment directly (channels' identity, evidence)
    own = bootstrap.bootstrap(Settings.from_env())
    previous = bootstrap.install(own)
    try:
        yield url
    finally:
        bootstrap.install(previous)
        own.engine.dispose()
        shared_engine.cache_clear()
        forget_migrated_engines()
        patch.undo()
        get_settings.cache_clear()


@pytest.fixture
def db(database_url: str):
    """Read what the actions wrote: `with db() as session: ...` (a fresh session each time)."""
    engine = make_engine(database_url)

    def open_session():
        return session_scope(engine)

    yield open_session
    engine.dispose()


@pytest.fixture
def agent_online(db):
    """An agent signed in to the console (the real account code), so that a hand-over is
    queued with an honest wait instead of the leave-a-message answer."""
    from datetime import timedelta

    from bot.console import accounts

    with db() as session:
        accounts.create_agent(session, "zhou", "zhou-password-1", display_name="小周")
        accounts.log_in(session, "zhou", "zhou-password-1", lifetime=timedelta(hours=8))
    return "zhou"


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


# ---- trackers -------------------------------------------------------------------------------


class Conversation:
    """A conversation as the Rasa server would send it to the action server.

    Events are appended in the order Rasa records them; `tracker()` derives the slots (domain
    initial values overlaid with every SlotSet), the latest message (the last user event's
    parse_data) and the active loop from them, exactly as `tracker.current_state()` does.
    """

    def __init__(self, domain: Dict[str, Any], sender_id: str) -> None:
        self.domain = domain
        self.sender_id = sender_id
        self.events: List[Dict[str, Any]] = [
            {"event": "action", "name": "action_session_start", "timestamp": time.time()},
            {"event": "session_started", "timestamp": time.time()},
            {"event": "action", "name": "action_listen", "timestamp": time.time()},
        ]
        self.paused = False

    # -- what happened ---------------------------------------------------------------------

    def user(
        self,
        text: str,
        intent: str,
        *,
        confidence: float = 0.95,
        entities: Optional[List[Dict[str, Any]]] = None,
        metadata: Optional[Dict[str, Any]] = None,
        channel: str = "webchat",
        ranking: Optional[List[tuple]] = None,
        response_selector: Optional[Dict[str, Any]] = None,
        slots: Optional[Dict[str, Any]] = None,
    ) -> "Conversation":
        """The buyer's message, followed by the slots Rasa's default mappings filled from it."""
        if self.events[-1].get("name") != "action_listen":
            self.action("action_listen")
        ranked = [{"name": intent, "confidence": confidence}] + [
            {"name": name, "confidence": value} for name, value in (ranking or [])
        ]
        parse_data: Dict[str, Any] = {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "intent_ranking": ranked,
            "entities": [
                {"entity": item["entity"], "value": item["value"], "extractor": "test", **item}
                for item in (entities or [])
            ],
            "message_id": f"m{len(self.events)}",
            "metadata": metadata or {},
        }
        if response_selector is not None:
            parse_data["response_selector"] = response_selector
        self.events.append(
            {
                "event": "user",
                "timestamp": time.time(),
                "text": text,
                "parse_data": parse_data,
                "input_channel": channel,
                "message_id": parse_data["message_id"],
                "metadata": metadata or {},
            }
        )
        for name, value in (slots or {}).items():
            self.slot(name, value)
        return self

    def slot(self, name: str, value: Any) -> "Conversation":
        self.events.append({"event": "slot", "timestamp": time.time(), "name": name, "value": value})
        return self

    def slots(self, **values: Any) -> "Conversation":
        for name, value in values.items():
            self.slot(name, value)
        return self

    def action(self, name: str) -> "Conversation":
        self.events.append({"event": "action", "timestamp": time.time(), "name": name})
        return self

    def loop(self, name: Optional[str]) -> "Conversation":
        self.events.append({"event": "active_loop", "timestamp": time.time(), "name": name})
        return self

    def apply(self, events: List[Dict[str, Any]]) -> "Conversation":
        """Record what an action returned, as Rasa does after running it."""
        for event in events:
            self.events.append({"timestamp": time.time(), **event})
        return self

    # -- what the action server receives ----------------------------------------------------

    def current_slots(self) -> Dict[str, Any]:
        slots = {name: copy.deepcopy(spec.get("initial_value")) for name, spec in self.domain["slots"].items()}
        slots.setdefault("requested_slot", None)
        for event in self.events:
            if event["event"] == "slot":
                slots[event["name"]] = copy.deepcopy(event["value"])
            elif event["event"] == "reset_slots":
                slots = {name: copy.deepcopy(spec.get("initial_value")) for name, spec in self.domain["slots"].items()}
        return slots

    def active_loop_name(self) -> Optional[str]:
        name = None
        for event in self.events:
            if event["event"] == "active_loop":
                name = event.get("name")
        return name

    def tracker(self) -> Tracker:
        latest = {}
        latest_action = None
        for event in self.events:
            if event["event"] == "user":
                latest = copy.deepcopy(event["parse_data"])
            elif event["event"] == "action":
                latest_action = event["name"]
        loop = self.active_loop_name()
        return Tracker(
            sender_id=self.sender_id,
            slots=self.current_slots(),
            latest_message=latest,
            events=copy.deepcopy(self.events),
            paused=self.paused,
            followup_action=None,
            active_loop={"name": loop} if loop else {},
            latest_action_name=latest_action,
        )

    def run(self, action: Action) -> "Turn":
        """Run `action` on the current tracker and record its events as Rasa does: slot
        mappings' events right after the user message, a validation under its form's name."""
        dispatcher = CollectingDispatcher()
        tracker = self.tracker()
        events = asyncio.run(action.run(dispatcher, tracker, self.domain))
        name = action.name()
        if name.startswith("validate_"):
            form = name[len("validate_") :]
            if any(event.get("event") == "action_execution_rejected" for event in events):
                # the form gives the turn up (the answer left its question open): Rasa records the
                # rejection, the form asks nothing and the other policies answer the message
                self.apply(events)
            else:
                self.action(form)  # Rasa records the form, which ran the validation
                self.apply(events)
                self._form_requests_next(form, events)
        else:
            if name != "action_validate_slot_mappings":  # runs inside action_extract_slots: no event
                self.action(name)
            self.apply(events)
        self._check_responses(dispatcher.messages, tracker.slots)
        return Turn(events, dispatcher.messages, self.current_slots().get("requested_slot"))

    def _check_responses(self, messages: List[Dict[str, Any]], slots: Dict[str, Any]) -> None:
        """Every response an action names exists in domain.yml and gets all its {values}
        (Rasa fills a template from the message's values, then from the slots)."""
        responses = self.domain["responses"]
        for message in messages:
            name = message.get("response")
            if name is None:
                continue
            assert name in responses, f"回复 {name} 不在 domain.yml 中"
            given = set(template_values(message)) | {slot for slot, value in slots.items() if value is not None}
            for variant in responses[name]:
                wanted = set(PLACEHOLDER.findall(variant.get("text") or ""))
                assert wanted <= given, f"{name} 缺少模板值 {sorted(wanted - given)}"

    def _form_requests_next(self, form: str, events: List[Dict[str, Any]]) -> None:
        """What Rasa's FormAction does after the validation: when the validation action did not
        choose the next slot, the first empty slot of the domain's form; none left → done."""
        if any(event.get("event") == "slot" and event.get("name") == "requested_slot" for event in events):
            if self.current_slots().get("requested_slot") is None:
                self.loop(None)
            return
        slots = self.current_slots()
        missing = [slot for slot in self.domain["forms"][form]["required_slots"] if slots.get(slot) is None]
        if missing:
            self.slot("requested_slot", missing[0])
        else:
            self.slot("requested_slot", None).loop(None)


class Turn:
    """What one action returned and said."""

    def __init__(
        self, events: List[Dict[str, Any]], messages: List[Dict[str, Any]], requested_slot: Optional[str]
    ) -> None:
        self.events = events
        self.messages = messages
        self.requested_slot = requested_slot  # after a form validation: the question asked next (None: form done)

    @property
    def responses(self) -> List[Optional[str]]:
        return [message.get("response") for message in self.messages]

    def message(self, response: str) -> Dict[str, Any]:
        found = [message for message in self.messages if message.get("response") == response]
        assert found, f"{response} 没有发出；实际发出 {self.responses}"
        return found[0]

    def slots_set(self) -> Dict[str, Any]:
        """The last value each returned SlotSet gives (what the tracker holds afterwards)."""
        return {event["name"]: event["value"] for event in self.events if event.get("event") == "slot"}

    def event_types(self) -> List[str]:
        return [event.get("event") for event in self.events]


_counter = {"n": 0}


@pytest.fixture
def conversation(domain):
    """`conversation()` → a new conversation with a sender id unique in the session."""

    def start(sender_id: Optional[str] = None) -> Conversation:
        _counter["n"] += 1
        return Conversation(domain, sender_id or f"test-conv-{_counter['n']}")

    return start


# ---- reading the database -------------------------------------------------------------------


def tickets_of(session, conversation_id: str) -> List[Ticket]:
    return list(
        session.execute(select(Ticket).where(Ticket.conversation_id == conversation_id).order_by(Ticket.id)).scalars()
    )


def handoffs_of(session, conversation_id: str) -> List[Handoff]:
    return list(
        session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id).order_by(Handoff.id)
        ).scalars()
    )


def template_values(message: Dict[str, Any]) -> Dict[str, Any]:
    """The values a dispatched response fills into its template (CollectingDispatcher keeps
    them as extra keys of the message)."""
    standard = {"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"}
    return {key: value for key, value in message.items() if key not in standard}
