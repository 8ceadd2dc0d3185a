"""Finding 10c of issue 13 (in part): a file is served to a buyer only through web chat
messages. A REST client that learned a file's sha256 could name it in its own conversation's
metadata and then download it with that conversation's id."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.web.media import photo_bytes

pytestmark = pytest.mark.rasa


def test_naming_a_stored_file_over_rest_does_not_open_it(secured):
    uploaded = requests.post(
        secured.url("/webhooks/webchat/upload"),
        files={"file": ("坏了.jpg", photo_bytes(label="evidence-" + uuid.uuid4().hex[:6]), "image/jpeg")},
        data={"session_id": "webbuyer" + uuid.uuid4().hex},
        timeout=60,
    )
    assert uploaded.status_code == 200, uploaded.text
    attachment = uploaded.json()["attachment"]
    thief = "restthief" + uuid.uuid4().hex  # fits the web chat's session-id pattern
    secured.say(thief, "这是照片", metadata={"attachments": [attachment]})
    stolen = requests.get(secured.url(attachment["url"]), params={"session_id": thief}, timeout=30)
    assert stolen.status_code == 403, stolen.status_code


def test_web_chat_history_is_not_served_for_a_rest_conversation(secured):
    sender = "restbuyer" + uuid.uuid4().hex  # fits the web chat's session-id pattern
    secured.say(sender, "我的订单号是 6201458839270153，手机尾号 4086")
    history = requests.get(secured.url("/webhooks/webchat/history"), params={"session_id": sender}, timeout=30)
    assert history.status_code == 200
    assert history.json()["messages"] == []
