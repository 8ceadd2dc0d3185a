"""The message bus (bot/messagebus.py) as the composition root wires it (bot/bootstrap.py), on a
real migrated SQLite file: the buyer notices are handlers of the ticket events, run only once
the unit of work has committed; a rolled-back change tells nobody; a failing handler is logged
and loses nothing. The command line's runtime is installed by the test, as `bot.cli.main` takes it."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import List, Tuple

import pytest

from bot import bootstrap
from bot.cli import main
from bot.config import Settings
from bot.console import promises
from bot.db import make_engine, session_scope
from bot.db.schema import forget_migrated_engines
from bot.messagebus import MessageBus
from bot.services import tickets
from bot.services.errors import InvalidTransition
from bot.services.order_import import import_orders
from bot.services.orders import find_order
from tests.db.conftest import TODAY
from tests.db.helpers import interchange_order


class Buyer:
    """Records what the handlers were asked to tell, and the ticket's status in the database as
    another connection sees it at that moment (committed or not)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.told: List[Tuple[str, str, str]] = []

    def __call__(self, ticket_number: str, update: str) -> str:
        engine = make_engine(self.url)
        try:
            with session_scope(engine) as session:
                seen = tickets.require_ticket(session, ticket_number).status
        finally:
            engine.dispose()
        self.told.append((ticket_number, update, seen))
        return f"told {ticket_number} {update}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return dataclasses.replace(Settings.from_env(), database_url=f"sqlite:///{tmp_path / 'bus.db'}")


@pytest.fixture
def buyer(settings: Settings) -> Buyer:
    return Buyer(settings.database_url)


@pytest.fixture
def runtime(settings: Settings, buyer: Buyer):
    built = bootstrap.bootstrap(settings, tell_buyer=buyer)
    yield built
    forget_migrated_engines()


def open_ticket(runtime, conversation_id: str = "c-bus") -> str:
    with runtime.unit_of_work() as unit:
        import_orders(unit.session, [interchange_order()], TODAY)
        ticket, _ = tickets.open_ticket(
            unit.session,
            order=find_order(unit.session, "1111222233334444"),
            category="logistics",
            conversation_id=conversation_id,
            decision=tickets.TicketDecision(rule_id="L5", remedies=("reship",)),
        )
        return ticket.ticket_number


def status_of(runtime, number: str) -> str:
    with runtime.unit_of_work() as unit:
        return tickets.require_ticket(unit.session, number).status


def test_a_status_a_person_sets_is_told_after_the_commit_and_the_answer_comes_back(runtime, buyer):
    number = open_ticket(runtime)
    assert buyer.told == [], "opening a ticket is no status a person set"
    with runtime.unit_of_work() as unit:
        tickets.change_status(unit.session, tickets.require_ticket(unit.session, number), "resolved", "agent:amy")
        assert buyer.told == [], "nothing is told before the transaction commits"
    # the handler ran after the commit: another connection already saw the new status
    assert buyer.told == [(number, promises.STATUS, "resolved")]
    assert unit.handled == [f"told {number} status"]

    with runtime.unit_of_work() as unit:
        promises.set_tracking(unit.session, number, "顺丰速运", "SF1234567890", "agent:amy")
    assert buyer.told[-1] == (number, promises.TRACKING, "resolved") and unit.handled == [f"told {number} tracking"]


def test_the_moves_the_conversation_makes_are_not_announced_again(runtime, buyer):
    number = open_ticket(runtime)
    with runtime.unit_of_work() as unit:
        ticket = tickets.require_ticket(unit.session, number)
        tickets.handoff_requested(unit.session, ticket, "buyer_request", "bot")
        tickets.update_ticket(unit.session, ticket, "agent:amy", priority="urgent", note="加急")
    assert status_of(runtime, number) == "with_agent"
    assert buyer.told == [] and unit.handled == []


def test_a_rolled_back_change_tells_nobody(runtime, buyer):
    number = open_ticket(runtime)
    with pytest.raises(RuntimeError):
        with runtime.unit_of_work() as unit:
            tickets.change_status(unit.session, tickets.require_ticket(unit.session, number), "resolved", "cli")
            raise RuntimeError("the rest of the change failed")
    assert status_of(runtime, number) == "open" and buyer.told == []

    # a savepoint rolled back inside a transaction that commits: its events go with it
    with runtime.unit_of_work() as unit:
        ticket = tickets.require_ticket(unit.session, number)
        try:
            with unit.session.begin_nested():
                tickets.change_status(unit.session, ticket, "pending_buyer", "cli")
                raise RuntimeError("undo this part")
        except RuntimeError:
            pass
        unit.session.refresh(ticket)
        tickets.change_status(unit.session, ticket, "with_agent", "agent:amy")
    assert status_of(runtime, number) == "with_agent"
    assert buyer.told == [(number, promises.STATUS, "with_agent")]


def test_a_failing_handler_is_logged_and_loses_neither_the_change_nor_the_other_handlers(runtime, buyer, caplog):
    number = open_ticket(runtime)

    def broken(ticket_number: str, update: str) -> str:
        raise ConnectionError("relay away")

    failing, working = promises.notification_handlers(broken), promises.notification_handlers(buyer)
    both = dataclasses.replace(runtime, bus=MessageBus({kind: [*failing[kind], *working[kind]] for kind in working}))
    with caplog.at_level(logging.ERROR, logger="bot.messagebus"):
        with both.unit_of_work() as unit:
            tickets.change_status(unit.session, tickets.require_ticket(unit.session, number), "resolved", "cli")
    assert status_of(runtime, number) == "resolved"
    assert buyer.told == [(number, promises.STATUS, "resolved")] and unit.handled == [f"told {number} status"]
    [record] = [r for r in caplog.records if r.name == "bot.messagebus"]
    assert number in record.getMessage() and "TicketStatusSet" in record.getMessage()
    assert record.exc_info and isinstance(record.exc_info[1], ConnectionError)


def test_the_command_line_tells_the_buyer_through_the_runtime_it_was_given(runtime, settings, buyer, capsys):
    number = open_ticket(runtime)
    command_line = bootstrap.command_line(settings, tell_buyer=buyer)

    assert main(["tickets", "status", number, "pending_buyer", "--agent", "amy"], runtime=command_line) == 0
    said = capsys.readouterr().out
    assert "处理中 → 等待买家回复" in said and f"told {number} status" in said
    assert buyer.told == [(number, promises.STATUS, "pending_buyer")]

    assert main(["tickets", "status", number, "awaiting_evidence"], runtime=command_line) == 1
    assert "不能从" in capsys.readouterr().err and len(buyer.told) == 1, "a refused change tells nobody"
    with pytest.raises(InvalidTransition):
        with runtime.unit_of_work() as unit:
            tickets.change_status(unit.session, tickets.require_ticket(unit.session, number), "awaiting_evidence", "x")
    assert len(buyer.told) == 1


def test_without_a_running_assistant_the_command_line_says_where_the_buyer_will_see_it(runtime, settings, capsys):
    number = open_ticket(runtime)
    nobody = dataclasses.replace(settings, rasa_port=1, relay_token="relay-token-for-this-test")
    assert main(["tickets", "status", number, "resolved"], runtime=bootstrap.command_line(nobody)) == 0
    said = capsys.readouterr().out
    assert "买家没有收到通知：助手没有在运行" in said and "改动已保存" in said and "查工单" in said
    assert status_of(runtime, number) == "resolved"
