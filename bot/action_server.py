"""The action server: rasa_sdk's app with what a server holding customers' data needs.

`python -m bot.action_server --port 5055` (started by bot/launcher.py) instead of
`rasa run actions`:
- it listens on AFTERSALES_ACTIONS_HOST (default 127.0.0.1, loopback only);
- `/webhook` answers only calls carrying the shared token (`?token=`, which the Rasa server
  sends from endpoints.yml `action_endpoint.token`), so a made-up tracker posted by anyone
  else is refused with 401;
- a failing action is logged with its name and the traceback, never with the tracker, and
  answered with a short error (rasa_sdk's own handler echoes the whole request body, i.e.
  the tracker with phone digits and order numbers);
- each action runs on a worker thread (`ThreadedActionExecutor`): the actions use blocking
  SQLAlchemy, and on the event loop one slow query (a write lock held by another process)
  would stall every other conversation's action call;
- each call is one transaction on the orders/tickets database, committed before the reply
  goes back (`bootstrap.one_unit_of_work_per_call`); a call that fails changes nothing;
- once the actions are loaded, what the process keeps is frozen for the garbage collector
  (bot/long_lived.py): a full collection no longer pauses every action call in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import hmac
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

import rasa_sdk.endpoint
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request

from bot import bootstrap
from bot.config import get_settings
from bot.long_lived import freeze_long_lived_objects
from bot.logging_filters import install_personal_data_filter
from bot.policy import PolicyConfigError
from bot.secrets import actions_token

logger = logging.getLogger("bot.action_server")
ACTION_THREADS = 8


class ThreadedActionExecutor(ActionExecutor):
    """rasa_sdk's executor, with each action call run to completion on a worker thread, in that
    thread's own event loop (the actions are coroutines that only block, never await IO; a
    loop kept per thread costs 9 µs a call, a new one per call 65 µs)."""

    _threads = ThreadPoolExecutor(max_workers=ACTION_THREADS, thread_name_prefix="action")
    _thread_loops = threading.local()

    async def run(self, action_call: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        parent_run = super().run
        return await asyncio.get_running_loop().run_in_executor(
            self._threads, lambda: self._on_this_threads_loop(parent_run(action_call))
        )

    @classmethod
    def _on_this_threads_loop(cls, coroutine):
        loop = getattr(cls._thread_loops, "loop", None)
        if loop is None:
            loop = cls._thread_loops.loop = asyncio.new_event_loop()
        with bootstrap.one_unit_of_work_per_call():
            return loop.run_until_complete(coroutine)


def create_action_app(token: Optional[str]) -> Sanic:
    # create_app builds its executor from this module attribute (rasa_sdk 3.6 endpoint.py)
    rasa_sdk.endpoint.ActionExecutor = ThreadedActionExecutor
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def require_token(request: Request):
        if request.path != "/webhook" or not token:
            return None
        given = request.args.get("token") or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            return response.json({"error": "缺少或错误的动作服务器令牌。"}, status=401)
        return None

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception):
        action = ""
        try:
            body = request.json
            action = body.get("next_action", "") if isinstance(body, dict) else ""
        except Exception:  # not JSON: nothing to name
            pass
        logger.error("action %s failed: %s", action or "?", type(exception).__name__, exc_info=exception)
        status = getattr(exception, "status_code", 500)
        return response.json({"error": f"动作 {action or '?'} 执行失败（{type(exception).__name__}）。"}, status=status)

    return app


def ready_action_app(token: Optional[str]) -> Sanic:
    """The app with every action loaded, and the process's long-lived objects then frozen."""
    app = create_action_app(token)
    freeze_long_lived_objects()
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="售后助手的动作服务器")
    parser.add_argument("--port", type=int, default=get_settings().actions_port)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    install_personal_data_filter()
    try:
        bootstrap.current()  # a broken policy file stops the start here, naming the bad key
    except PolicyConfigError as broken:
        raise SystemExit(f"动作服务器没有启动：{broken}")
    host = get_settings().actions_host
    app = ready_action_app(actions_token(get_settings()))
    logger.info("action server listening on http://%s:%s", host, args.port)
    app.run(host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
