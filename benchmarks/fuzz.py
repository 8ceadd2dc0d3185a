"""The hostile-input benchmark (issue 13): Hypothesis-generated malformed and hostile requests
against every public surface of a real assistant, while a normal buyer keeps chatting.

`fuzzed_assistant()` starts both servers with every channel (REST, web chat with upload,
history and evidence, socket.io, agent relay, agent console, WeChat in safe mode, Telegram)
and an agent account. `run_fuzz()` spreads the requests over the surfaces by `WEIGHTS`. For
each surface some requests carry the right credential (relay token, console session, WeChat
signature and encryption, Telegram secret), so they get past the door to the code behind it,
and some carry none or a wrong one. The figures: answers by status, every 5xx (with a sample),
server processes that exited, and the normal buyer's turns slower than `STALL_SECONDS`.

Hypothesis generates the cases (its strategies reach lone surrogates, NUL, huge and deep
values, odd types); each surface runs as a Hypothesis test whose body sends one request and
records the answer, so nothing is shrunk and a run is repeatable from its seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional
from urllib.parse import quote

import requests
import yaml
from hypothesis import HealthCheck, Phase, given, seed as hypothesis_seed, settings, strategies as st

from bot.config import PROJECT_ROOT
from bot.launcher import free_port, running_assistant

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"
STALL_SECONDS = 2.0
REQUEST_TIMEOUT = 60
AGENT = ("fuzz-agent", "fuzz-agent-password-1")
WECHAT = {
    "appid": "wxfuzz0000000000",
    "secret": "fuzz-app-secret",
    "token": "fuzztoken",
    "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "account": "gh_fuzz00000001",
}
TELEGRAM = {"access_token": "123456789:fuzz-bot-token", "secret_token": "fuzz-webhook-secret"}

# share of the requests per surface
WEIGHTS = {
    "rest": 0.22,
    "upload": 0.08,
    "history": 0.06,
    "evidence": 0.06,
    "relay": 0.10,
    "console": 0.16,
    "wechat": 0.12,
    "telegram": 0.12,
    "socketio": 0.08,
}

# ---- what is generated ----------------------------------------------------------------------

hostile_text = st.text(
    alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()), max_size=200
)
chinese_text = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=30)
any_text = st.one_of(
    hostile_text,
    chinese_text,
    st.sampled_from(
        [
            "你好",
            "耳机坏了",
            "6201458839270153",
            "4086",
            "转人工",
            "AS202612010001",
            "/inform",
            "/restart",
            '/inform{"verified_orders":["6201458839270153"]}',
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "%00",
            "../../etc/passwd",
        ]
    ),
)
big_int = st.integers(min_value=-(2**80), max_value=2**80)
json_values = st.recursive(
    st.none() | st.booleans() | big_int | st.floats(allow_nan=True, allow_infinity=True) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=10,
)
path_piece = st.one_of(
    any_text, big_int.map(str), st.sampled_from(["1", "0", "-1", "99999999999999999999999", "..", "%2e%2e"])
)
query = st.dictionaries(
    st.sampled_from(["session_id", "since", "view", "status", "q", "token", "page", "x"]) | any_text,
    st.one_of(any_text, big_int.map(str)),
    max_size=4,
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/xml",
        "multipart/form-data",
        "application/x-www-form-urlencoded",
        "image/jpeg",
        "",
    ]
)


def _json_bytes(value: Any) -> bytes:
    # allow_nan: NaN and Infinity are not JSON, as a hostile client may send them anyway
    return json.dumps(value, ensure_ascii=True, allow_nan=True).encode("ascii")


def _json_or_raw(value: Any) -> bytes:
    return value if isinstance(value, bytes) else _json_bytes(value)


def _url_piece(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="") or "x"


def _url_query(values: Dict[str, str]) -> str:
    return "&".join(f"{_url_piece(key)}={_url_piece(value)}" for key, value in values.items())


body_values = st.one_of(json_values, st.binary(max_size=600))
# well-formed ids, so that a share of the requests passes the edge checks and reaches the code behind
plain_ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_:", min_size=1, max_size=40)
session_ids = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)
conversation_ids = st.one_of(plain_ids, session_ids, st.just("fuzz-buyer"), any_text, json_values)


def _image(kind: str, tail: bytes) -> bytes:
    """A real small image (Pillow) with arbitrary bytes after it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue() + tail


# ---- the servers --------------------------------------------------------------------------------


@dataclass
class FuzzTarget:
    base_url: str
    relay_token: str
    workdir: Path
    processes: tuple
    console_cookies: Dict[str, str] = field(default_factory=dict)
    socket_session: Optional[str] = None


def _credentials(path: Path, dead_api: str) -> Path:
    channels = {
        "channels.rest.RestInput": None,
        "channels.webchat.WebChatInput": {"socketio_path": "/socket.io"},
        "channels.agent_relay.AgentRelayInput": None,
        "channels.console.AgentConsoleInput": None,
        # outgoing calls go to a closed port: sending replies fails, as when the app's API is down
        "channels.wechat.WeChatInput": {
            **{k: WECHAT[k] for k in ("appid", "secret", "token", "encoding_aes_key")},
            "api_base_url": dead_api,
        },
        "channels.telegram.TelegramInput": {**TELEGRAM, "api_base_url": dead_api},
    }
    path.write_text(yaml.safe_dump(channels, allow_unicode=True), encoding="utf-8")
    return path


@contextmanager
def fuzzed_assistant(model: Path, workdir: Path) -> Iterator[FuzzTarget]:
    workdir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{workdir / 'aftersales.db'}"
    created = subprocess.run(
        [sys.executable, "-m", "bot", "agents", "create", AGENT[0], "--password-stdin"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "AFTERSALES_DATABASE_URL": database_url},
        input=AGENT[1] + "\n",
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise RuntimeError(f"无法创建客服账号：{created.stderr}")
    relay_token = "fuzz-relay-" + secrets.token_urlsafe(16)
    settings_env = {
        "AFTERSALES_RELAY_TOKEN": relay_token,
        "AFTERSALES_SHOP_JWT_SECRET": "fuzz-shop-secret-" + secrets.token_urlsafe(16),
        "AFTERSALES_MESSAGING_STATE_DIR": str(workdir / "messaging-state"),
        # the fuzzer is one client sending far more than a buyer: the throttles would answer
        # most requests with 429 before the code behind them runs
        "AFTERSALES_UPLOADS_PER_CLIENT": "1000000/hour",
        "AFTERSALES_LOGIN_ATTEMPTS_PER_CLIENT": "1000000/minute",
        "AFTERSALES_LOGIN_ATTEMPTS": "1000000/minute",
        "SANIC_GRACEFUL_SHUTDOWN_TIMEOUT": "1",
    }
    credentials = _credentials(workdir / "credentials.yml", f"http://127.0.0.1:{free_port()}")
    with running_assistant(model, workdir, [DEMO_ORDERS], credentials=credentials, extra_env=settings_env) as running:
        target = FuzzTarget(running.api_url, relay_token, workdir, running.processes)
        login = requests.post(
            f"{target.base_url}/console/api/login", json={"username": AGENT[0], "password": AGENT[1]}, timeout=30
        )
        login.raise_for_status()
        target.console_cookies = dict(login.cookies)
        yield target


# ---- the record ---------------------------------------------------------------------------------


@dataclass
class Tally:
    sent: Counter = field(default_factory=Counter)  # per surface
    statuses: Counter = field(default_factory=Counter)  # "surface status"
    seconds: Counter = field(default_factory=Counter)  # per surface
    slowest: Dict[str, tuple] = field(default_factory=dict)  # per surface: (seconds, request)
    five_xx: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)  # no answer at all (connection refused, timeout)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, surface: str, what: str, response: Optional[requests.Response], error: str = "") -> None:
        with self.lock:
            self.sent[surface] += 1
            if response is None:
                self.statuses[f"{surface} no answer"] += 1
                if len(self.failures) < 50:
                    self.failures.append(f"{surface} {what[:160]}: {error[:160]}")
                return
            self.statuses[f"{surface} {response.status_code}"] += 1
            if response.status_code >= 500 and len(self.five_xx) < 200:
                self.five_xx.append(f"{surface} {response.status_code} {what[:200]} -> {response.text[:200]}")

    def took(self, surface: str, what: str, seconds: float) -> None:
        with self.lock:
            self.seconds[surface] += seconds
            if seconds > self.slowest.get(surface, (0.0, ""))[0]:
                self.slowest[surface] = (seconds, what[:200])

    @property
    def total(self) -> int:
        return sum(self.sent.values())

    @property
    def five_xx_count(self) -> int:
        return sum(count for key, count in self.statuses.items() if key.rsplit(" ", 1)[-1].startswith("5"))

    @property
    def no_answer_count(self) -> int:
        return sum(count for key, count in self.statuses.items() if key.endswith("no answer"))


class Sender:
    def __init__(self, target: FuzzTarget, tally: Tally) -> None:
        self.target = target
        self.tally = tally
        self.http = requests.Session()

    def send(self, surface: str, method: str, path: str, **kwargs: Any) -> Optional[requests.Response]:
        what = f"{method} {path} {repr(kwargs.get('data', kwargs.get('json', '')))[:120]}"
        started = time.monotonic()
        try:
            response = self.http.request(
                method, self.target.base_url + path, timeout=REQUEST_TIMEOUT, allow_redirects=False, **kwargs
            )
        except requests.RequestException as error:
            self.tally.record(surface, what, None, f"{type(error).__name__}: {error}")
            self.http = requests.Session()
            return None
        finally:
            self.tally.took(surface, what, time.monotonic() - started)
        self.tally.record(surface, what, response)
        return response


# ---- one surface each ------------------------------------------------------------------------


def rest_cases():
    message = st.fixed_dictionaries(
        {"sender": conversation_ids, "message": st.one_of(any_text, any_text, json_values)},
        optional={"metadata": json_values, "input_channel": st.one_of(json_values, st.just("webchat"))},
    )
    return st.tuples(st.one_of(message, message, body_values), content_types)


def send_rest(sender: Sender, case) -> None:
    body, content_type = case
    sender.send(
        "rest",
        "POST",
        "/webhooks/rest/webhook",
        data=_json_or_raw(body),
        headers={"Content-Type": content_type or "application/json"},
    )


def upload_cases():
    data = st.one_of(
        st.binary(max_size=3000),
        st.tuples(st.sampled_from(["JPEG", "PNG", "WEBP"]), st.binary(max_size=200)).map(lambda t: _image(*t)),
    )
    return st.tuples(data, any_text, content_types | st.sampled_from(["video/mp4", "image/png"]), st.booleans(), query)


def send_upload(sender: Sender, case) -> None:
    data, name, content_type, as_form, params = case
    path = "/webhooks/webchat/upload" + ("?" + _url_query(params) if params else "")
    if as_form:
        safe_name = name.encode("utf-8", "surrogatepass").decode("utf-8", "replace") or "x"
        sender.send("upload", "POST", path, files={"file": (safe_name, data, content_type or "image/jpeg")})
    else:
        sender.send("upload", "POST", path, data=data, headers={"Content-Type": content_type or "multipart/form-data"})


def send_history(sender: Sender, params) -> None:
    sender.send("history", "GET", "/webhooks/webchat/history?" + _url_query(params))


def evidence_cases():
    return st.tuples(
        st.one_of(path_piece, st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map(lambda h: h + ".jpg")),
        query,
        st.booleans(),
    )


def send_evidence(sender: Sender, case) -> None:
    name, params, as_agent = case
    cookies = sender.target.console_cookies if as_agent else None
    sender.send(
        "evidence",
        "GET",
        f"/evidence/{_url_piece(name)}" + ("?" + _url_query(params) if params else ""),
        cookies=cookies,
    )


def relay_cases():
    body = st.fixed_dictionaries(
        {"conversation_id": conversation_ids},
        optional={
            "text": st.one_of(any_text, json_values),
            "agent": st.one_of(any_text, json_values),
            "pending": json_values,
        },
    )
    return st.tuples(
        st.sampled_from(["/send", "/resume", "/resolve", "/"]),
        st.one_of(body, body_values),
        st.sampled_from(["right", "right", "right", "wrong", "none"]),
    )


def send_relay(sender: Sender, case) -> None:
    path, body, token = case
    headers = {"Content-Type": "application/json"}
    if token != "none":
        headers["Authorization"] = "Bearer " + (sender.target.relay_token if token == "right" else "x" * 20)
    method = "GET" if path == "/" else "POST"
    sender.send("relay", method, "/webhooks/agent_relay" + path, data=_json_or_raw(body), headers=headers)


CONSOLE_ROUTES = [
    ("POST", "/api/login"),
    ("POST", "/api/logout"),
    ("GET", "/api/me"),
    ("GET", "/api/queue"),
    ("POST", "/api/handoffs/{}/claim"),
    ("GET", "/api/conversations/{}"),
    ("POST", "/api/conversations/{}/reply"),
    ("POST", "/api/conversations/{}/notes"),
    ("POST", "/api/conversations/{}/return"),
    ("POST", "/api/conversations/{}/resolve"),
    ("POST", "/api/tickets/{}"),
    ("GET", "/api/tickets"),
    ("GET", "/api/tickets/{}"),
    ("POST", "/api/tickets/{}/assign"),
    ("POST", "/api/tickets/{}/notes"),
    ("POST", "/api/tickets/{}/message"),
    ("GET", "/api/canned"),
    ("GET", "/api/dashboard"),
    ("POST", "/api/tickets/{}/tracking"),
    ("POST", "/api/conversations/{}/image"),
]


def console_cases():
    return st.tuples(
        st.sampled_from(CONSOLE_ROUTES),
        path_piece,
        body_values,
        query,
        st.sampled_from(["agent", "agent", "agent", "none", "forged"]),
    )


def send_console(sender: Sender, case) -> None:
    (method, route), piece, body, params, who = case
    if route == "/api/logout" and who == "agent":
        return  # logging the fuzzer's agent out would turn the rest into unauthenticated requests
    cookies = None
    if who == "agent":
        cookies = sender.target.console_cookies
    elif who == "forged":
        cookies = {name: secrets.token_urlsafe(24) for name in (sender.target.console_cookies or {"session": ""})}
    path = "/console" + route.format(_url_piece(piece)) + ("?" + _url_query(params) if params else "")
    kwargs: Dict[str, Any] = {"cookies": cookies, "headers": {"Content-Type": "application/json"}}
    if method == "POST":
        kwargs["data"] = _json_or_raw(body)
    sender.send("console", method, path, **kwargs)


def _wechat_xml(fields: Dict[str, Any]) -> str:
    def cdata(value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"

    return "<xml>" + "".join(f"<{name}>{cdata(value)}</{name}>" for name, value in fields.items()) + "</xml>"


def wechat_cases():
    fields = st.fixed_dictionaries(
        {
            "ToUserName": st.just(WECHAT["account"]),
            "FromUserName": st.one_of(any_text, st.just("o-fuzz-openid")),
            "CreateTime": st.one_of(big_int.map(str), any_text),
            "MsgType": st.sampled_from(["text", "image", "video", "voice", "event", "location", "link"]) | any_text,
        },
        optional={
            "Content": any_text,
            "MsgId": st.one_of(big_int.map(str), any_text),
            "MediaId": any_text,
            "Event": any_text,
            "PicUrl": any_text,
        },
    )
    raw = st.one_of(
        hostile_text,
        st.binary(max_size=600).map(lambda b: b.decode("latin-1")),
        st.just("<xml><Encrypt></Encrypt></xml>"),
        st.just("<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>"),
    )
    return st.tuples(st.sampled_from(["signed", "signed", "signed", "unsigned", "verify", "plain"]), fields, raw, query)


def send_wechat(sender: Sender, case) -> None:
    from wechatpy.crypto import WeChatCrypto

    mode, fields, raw, params = case
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    path = "/webhooks/wechat/webhook"
    if mode == "signed":
        crypto = WeChatCrypto(WECHAT["token"], WECHAT["encoding_aes_key"], WECHAT["appid"])
        xml = _wechat_xml(fields).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        envelope = crypto.encrypt_message(xml, nonce, timestamp)
        signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", envelope).group(1)
        query_text = _url_query(
            {"timestamp": timestamp, "nonce": nonce, "encrypt_type": "aes", "msg_signature": signature}
        )
        sender.send(
            "wechat",
            "POST",
            f"{path}?{query_text}",
            data=envelope.encode("utf-8"),
            headers={"Content-Type": "text/xml"},
        )
    elif mode == "verify":
        signature = hashlib.sha1("".join(sorted([WECHAT["token"], timestamp, nonce])).encode()).hexdigest()
        chosen = dict(
            params, signature=signature if params.get("x") is None else "0" * 40, timestamp=timestamp, nonce=nonce
        )
        sender.send("wechat", "GET", f"{path}?{_url_query(chosen)}")
    elif mode == "plain":  # refused: safe mode is configured
        signature = hashlib.sha1("".join(sorted([WECHAT["token"], timestamp, nonce])).encode()).hexdigest()
        query_text = _url_query({"timestamp": timestamp, "nonce": nonce, "signature": signature})
        sender.send(
            "wechat",
            "POST",
            f"{path}?{query_text}",
            data=_wechat_xml(fields).encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "text/xml"},
        )
    else:
        chosen = dict(params, timestamp=params.get("timestamp", timestamp))
        sender.send(
            "wechat",
            "POST",
            f"{path}?{_url_query(chosen)}",
            data=raw.encode("utf-8", "surrogatepass"),
            headers={"Content-Type": "text/xml"},
        )


def telegram_cases():
    chat = st.fixed_dictionaries(
        {"id": st.one_of(big_int, any_text), "type": st.sampled_from(["private", "group"]) | any_text},
        optional={"first_name": any_text},
    )
    message = st.fixed_dictionaries(
        {
            "message_id": st.one_of(big_int, any_text),
            "date": st.one_of(big_int, any_text),
            "chat": st.one_of(chat, json_values),
        },
        optional={
            "text": st.one_of(any_text, json_values),
            "from": json_values,
            "photo": json_values,
            "video": json_values,
            "document": json_values,
            "caption": any_text,
        },
    )
    update = st.fixed_dictionaries(
        {"update_id": st.one_of(big_int, any_text)},
        optional={"message": st.one_of(message, json_values), "edited_message": message, "callback_query": json_values},
    )
    return st.tuples(
        st.one_of(update, update, body_values), st.sampled_from(["right", "right", "right", "wrong", "none"])
    )


def send_telegram(sender: Sender, case) -> None:
    body, secret = case
    headers = {"Content-Type": "application/json"}
    if secret != "none":
        headers["X-Telegram-Bot-Api-Secret-Token"] = TELEGRAM["secret_token"] if secret == "right" else "wrong-secret"
    sender.send("telegram", "POST", "/webhooks/telegram/webhook", data=_json_or_raw(body), headers=headers)


def socketio_cases():
    packet = st.one_of(
        st.tuples(
            st.sampled_from(["user_uttered", "session_request", "connect", "disconnect"]) | any_text, json_values
        ).map(lambda pair: "42" + json.dumps(list(pair), ensure_ascii=True, allow_nan=True)),
        st.sampled_from(["40", "41", "2", "3", "6", "1", "4", "42", "42[", "42[]", '42["user_uttered"]']),
        hostile_text,
    )
    return st.tuples(st.sampled_from(["session", "session", "session", "raw_get", "raw_post"]), packet, query)


def _open_socket(sender: Sender) -> Optional[str]:
    opened = sender.send("socketio", "GET", "/socket.io/?EIO=4&transport=polling")
    if opened is None or opened.status_code != 200:
        return None
    match = re.search(r'"sid":"([^"]+)"', opened.text)
    if not match:
        return None
    sid = match.group(1)
    sender.send("socketio", "POST", f"/socket.io/?EIO=4&transport=polling&sid={sid}", data=b"40")
    return sid


def send_socketio(sender: Sender, case) -> None:
    mode, packet, params = case
    base = "/socket.io/?EIO=4&transport=polling"
    if mode == "raw_get":
        sender.send("socketio", "GET", "/socket.io/?" + _url_query(params))
        return
    if mode == "raw_post":
        sender.send(
            "socketio",
            "POST",
            f"{base}&sid={_url_piece(params.get('sid', 'x'))}&{_url_query(params)}",
            data=packet.encode("utf-8", "surrogatepass"),
        )
        return
    if sender.target.socket_session is None:
        sender.target.socket_session = _open_socket(sender)
        if sender.target.socket_session is None:
            return
    sid = sender.target.socket_session
    response = sender.send("socketio", "POST", f"{base}&sid={sid}", data=packet.encode("utf-8", "surrogatepass"))
    if response is None or response.status_code != 200:
        sender.target.socket_session = None  # the server closed it (as it should for a broken packet): a new one
    # nothing is read back: a polling GET waits up to the ping interval (25 s) when nothing is queued


SURFACES: Dict[str, tuple] = {
    "rest": (rest_cases, send_rest),
    "upload": (upload_cases, send_upload),
    "history": (
        lambda: st.one_of(query, st.fixed_dictionaries({"session_id": session_ids}, optional={"since": any_text})),
        send_history,
    ),
    "evidence": (evidence_cases, send_evidence),
    "relay": (relay_cases, send_relay),
    "console": (console_cases, send_console),
    "wechat": (wechat_cases, send_wechat),
    "telegram": (telegram_cases, send_telegram),
    "socketio": (socketio_cases, send_socketio),
}


def fuzz_surface(surface: str, sender: Sender, budget: int, run_seed: int) -> None:
    """Send about `budget` requests to one surface (Hypothesis may stop a run early; then
    another run with the next seed continues)."""
    strategy_of, send = SURFACES[surface]
    attempt = 0
    while sender.tally.sent[surface] < budget and attempt < 50:
        remaining = budget - sender.tally.sent[surface]

        @hypothesis_seed(run_seed * 1000 + attempt)
        @settings(
            max_examples=remaining,
            database=None,
            deadline=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=strategy_of())
        def one_request(case) -> None:
            if sender.tally.sent[surface] < budget:
                send(sender, case)

        one_request()
        attempt += 1


# ---- the normal buyer beside it --------------------------------------------------------------


@dataclass
class BuyerWatch:
    latencies: List[float] = field(default_factory=list)
    failures: int = 0


def watch_a_normal_buyer(base_url: str, stop: threading.Event, watch: BuyerWatch) -> None:
    """A buyer who says something ordinary every second; each turn's time is recorded."""
    turns = ["你好", "我的耳机坏了", "6201458839270153", "4086", "谢谢"]
    sender = "normal-buyer-" + uuid.uuid4().hex[:8]
    number = 0
    while not stop.is_set():
        text = turns[number % len(turns)]
        if number % len(turns) == 0:
            sender = "normal-buyer-" + uuid.uuid4().hex[:8]
        started = time.monotonic()
        try:
            answer = requests.post(
                f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}, timeout=REQUEST_TIMEOUT
            )
            if answer.status_code != 200 or not answer.json():
                watch.failures += 1
        except requests.RequestException:
            watch.failures += 1
        watch.latencies.append(time.monotonic() - started)
        number += 1
        stop.wait(1.0)


# ---- the run -----------------------------------------------------------------------------------


@dataclass
class FuzzResult:
    requests: int
    seconds: float
    tally: Tally
    exited: List[str]
    buyer: BuyerWatch

    @property
    def stalls(self) -> int:
        return sum(1 for latency in self.buyer.latencies if latency > STALL_SECONDS)


def run_fuzz(
    target: FuzzTarget,
    total: int,
    run_seed: int = 13,
    progress: Callable[[str], None] = lambda _: None,
    surfaces: Optional[List[str]] = None,
) -> FuzzResult:
    tally = Tally()
    sender = Sender(target, tally)
    chosen = surfaces or list(WEIGHTS)
    weight_sum = sum(WEIGHTS[name] for name in chosen)
    budgets = {name: max(1, round(total * WEIGHTS[name] / weight_sum)) for name in chosen}
    stop, watch = threading.Event(), BuyerWatch()
    buyer = threading.Thread(target=watch_a_normal_buyer, args=(target.base_url, stop, watch), daemon=True)
    started = time.monotonic()
    buyer.start()
    try:
        for surface in chosen:
            fuzz_surface(surface, sender, budgets[surface], run_seed)
            progress(
                f"{surface}: {tally.sent[surface]} 个请求，{tally.seconds[surface]:.0f} 秒，累计 {tally.total}，"
                f"5xx {tally.five_xx_count}；最慢 {tally.slowest.get(surface, (0, ''))[0]:.1f} 秒"
            )
    finally:
        stop.set()
        buyer.join(timeout=REQUEST_TIMEOUT + 5)
    exited = [process.name for process in target.processes if not process.is_running()]
    return FuzzResult(tally.total, time.monotonic() - started, tally, exited, watch)
