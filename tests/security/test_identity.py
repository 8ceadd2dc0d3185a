"""Finding 1 and 10a of issue 13: an identity only from where it is proven.

A REST client once named the web chat as its channel and a customer id in the metadata, and
was offered that customer's orders as buttons. Now the REST channel is always `rest` and its
metadata carries no identity; the web chat's shop-signed identity stops counting when its
token expires (also the `customer_id` slot it set)."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.services.identity import sign_customer_token
from tests.security.conftest import SHOP_SECRET, demo_orders, everything_shown
from tests.web.conftest import WebBuyer

pytestmark = pytest.mark.rasa


def _customer_with_orders():
    orders = [order for order in demo_orders() if order.get("customer_id")]
    customer = orders[0]["customer_id"]
    return customer, [str(order["order_id"]) for order in orders if order["customer_id"] == customer]


def test_a_rest_client_cannot_pass_for_the_web_chat_or_name_a_customer(secured):
    customer, numbers = _customer_with_orders()
    sender = "forger-" + uuid.uuid4().hex[:8]
    forged = {"input_channel": "webchat", "metadata": {"customer_id": customer, "agent": "假客服"}}
    replies = secured.say(sender, "我买的耳机坏了", **forged)
    replies += secured.say(sender, "查一下我的订单", **forged)

    shown = everything_shown(replies)
    assert not any(number in shown for number in numbers), f"伪造的身份拿到了订单号：{shown}"
    tracker = secured.tracker(sender)
    user_events = [event for event in tracker["events"] if event["event"] == "user"]
    assert user_events and all(event["input_channel"] == "rest" for event in user_events)
    assert all("customer_id" not in (event.get("metadata") or {}) for event in user_events)
    assert all("agent" not in (event.get("metadata") or {}) for event in user_events)
    assert tracker["slots"].get("customer_id") is None


class _Tab:
    """A web chat tab (the web tests' socket.io buyer) on this assistant."""

    def __init__(self, secured, identity):
        self.base_url = secured.base_url
        self.tab = WebBuyer(self, identity=identity)


def test_the_signed_identity_slot_expires_with_its_token(secured):
    customer, numbers = _customer_with_orders()
    token = sign_customer_token(customer, SHOP_SECRET, lifetime_seconds=6)
    tab = _Tab(secured, token).tab.connect()
    try:
        tab.say("你好")
        assert secured.tracker(tab.session_id)["slots"].get("customer_id") == customer
        time.sleep(7)  # the token has expired; the socket is still open
        replies = tab.say("查一下我的订单")
        assert secured.tracker(tab.session_id)["slots"].get("customer_id") is None
        shown = everything_shown(replies)
        assert not any(number in shown for number in numbers), f"过期的身份仍拿到了订单号：{shown}"
    finally:
        tab.close()
