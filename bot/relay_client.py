"""Telling a buyer of their ticket's progress from outside the Rasa server (the command line):
the running server is asked over HTTP (POST /webhooks/agent_relay/ticket_update with the relay
token, channels/agent_relay.py), and delivers it on the buyer's own channel. The answer is one
Chinese line for whoever made the change; the change itself is saved whatever it says."""

from __future__ import annotations

from typing import Callable

import requests

from bot.secrets import relay_token

ANSWER_SECONDS = 30
# where the buyer still sees the change when nobody could tell them (the bot answers from the database)
SEEN_LATER = {
    "status": "改动已保存：买家向助手「查工单」时会看到新的状态。",
    "tracking": "改动已保存：买家向助手「查物流」时会看到新的物流单号。",
}


def ticket_update_over_http(settings) -> Callable[[str, str], str]:
    """A `TellBuyer` (bot/console/promises.py) that asks the Rasa server on
    AFTERSALES_RASA_PORT of this machine."""
    url = f"http://127.0.0.1:{settings.rasa_port}/webhooks/agent_relay/ticket_update"

    def tell(ticket_number: str, update: str) -> str:
        later = SEEN_LATER.get(update, "改动已保存。")
        try:
            answer = requests.post(
                url,
                json={"ticket_number": ticket_number, "update": update},
                headers={"Authorization": f"Bearer {relay_token(settings)}"},
                timeout=ANSWER_SECONDS,
            )
        except requests.RequestException:
            return f"买家没有收到通知：助手没有在运行（{url} 连不上）。{later}需要及时告知的话，请启动助手后在控制台联系买家，或改用电话或短信。"
        body = answer.json() if answer.headers.get("Content-Type", "").startswith("application/json") else {}
        if answer.status_code != 200:
            reason = str(body.get("error") or f"HTTP {answer.status_code}").rstrip("。")
            return f"买家没有收到通知：{reason}。{later}"
        if body.get("delivered"):
            return f"已通知买家：{body.get('text')}"
        return f"买家没有收到通知：{body.get('note')}"

    return tell
