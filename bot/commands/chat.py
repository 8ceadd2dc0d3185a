"""`python -m bot chat`: a terminal chat with a running assistant over the REST channel."""

from __future__ import annotations

import json
import sys
import uuid

import requests

from bot.messaging.buttons import number_buttons, payload_for_reply


def register(subparsers) -> None:
    parser = subparsers.add_parser("chat", help="在终端里和正在运行的助手对话（REST 渠道）")
    parser.add_argument(
        "--url", help="REST webhook 地址（默认 http://127.0.0.1:<AFTERSALES_RASA_PORT>/webhooks/rest/webhook）"
    )
    parser.add_argument("--sender", help="会话 ID（默认随机生成）")
    parser.set_defaults(func=chat)


def render(reply: dict) -> str:
    lines = []
    if reply.get("text"):
        lines.append(reply["text"])
    if reply.get("image"):
        lines.append(f"[图片] {reply['image']}")
    for option in number_buttons(reply.get("buttons") or []):
        lines.append(f"  {option.number}. {option.title}")
    return "\n".join(lines)


def chat(args) -> int:
    url = args.url or f"http://127.0.0.1:{args.runtime.settings.rasa_port}/webhooks/rest/webhook"
    sender = args.sender or f"cli-{uuid.uuid4().hex[:8]}"
    print(f"会话 {sender}，连接 {url}。输入消息后回车；按钮可以直接输入编号；Ctrl-D 退出。")
    last_options: list = []
    while True:
        try:
            text = input("您：").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not text:
            continue
        text = payload_for_reply(text, last_options) or text
        try:
            response = requests.post(url, json={"sender": sender, "message": text}, timeout=60)
            if response.status_code != 429:  # throttled: the body is the Chinese answer
                response.raise_for_status()
            replies = response.json()
        except (requests.RequestException, json.JSONDecodeError) as error:
            print(f"连接助手失败：{error}。请确认 `make run` 正在运行。", file=sys.stderr)
            continue
        last_options = []
        for reply in replies:
            print(f"助手：{render(reply)}")
            last_options = number_buttons(reply.get("buttons") or []) or last_options
