"""`python -m bot serve`: the README's run command after set-up.

Loads the demo orders into the embedded database, trains the model only when Rasa's
fingerprint says the data or config changed, starts the action server and the Rasa server,
prints where they listen (REST, the buyers' web chat /chat/, the agent console /console/),
and stops both on Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from bot import model_store
from bot.commands.db import printable_url
from bot.config import PROJECT_ROOT
from bot.secrets import actions_token, api_token
from bot.launcher import (
    rasa_environment,
    rasa_model_loaded,
    server_security_environment,
    start_action_server,
    start_rasa_server,
    venv_executable,
    wait_until_ready,
)

DEMO_ORDERS = PROJECT_ROOT / "shop" / "demo_orders.json"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "serve", help="启动售后助手（动作服务器 + Rasa 服务器：REST、网页聊天、人工客服控制台）"
    )
    parser.add_argument("--no-demo-data", action="store_true", help="不导入演示订单")
    parser.add_argument(
        "--production",
        action="store_true",
        help="生产启动：不导入演示订单、不训练（使用 models/ 中与当前数据和配置对应的模型，或 --model）",
    )
    parser.add_argument("--model", type=Path, help="使用这个模型文件，不训练")
    parser.add_argument("--startup-timeout", type=float, default=300.0, help="等待服务就绪的秒数（默认 300）")
    parser.set_defaults(func=serve)


def load_demo_orders() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "orders", "import", str(DEMO_ORDERS)],
        cwd=PROJECT_ROOT,
    )
    if result.returncode != 0:
        raise SystemExit("演示订单导入失败，请查看上面的提示。")


def train_if_changed() -> Path:
    """The model of the current config, domain, data and components (bot/model_store.py):
    reused when models/ has it, trained (once) when not; older models of the project go."""
    started = time.monotonic()
    fingerprint = model_store.training_fingerprint()
    model = model_store.model_path(fingerprint=fingerprint)
    if model.exists():
        print(f"[serve] 数据和配置没有变化，使用已有模型：{model.name}")
        return model
    print(f"[serve] 数据或配置有变化（或还没有模型），开始训练 {model.name}（需要几分钟）……")
    result = subprocess.run(
        [venv_executable("rasa"), "train", "--out", "models", "--fixed-model-name", model.name.removesuffix(".tar.gz")],
        cwd=PROJECT_ROOT,
        env=rasa_environment(),
    )
    if result.returncode != 0 or not model.exists():
        raise SystemExit("模型训练失败，请查看上面的 Rasa 输出。")
    for old in model_store.stale_models(keep=model):
        old.unlink()
    print(f"[serve] 模型就绪：{model.name}（训练用时 {time.monotonic() - started:.0f} 秒）")
    return model


def production_model() -> Path:
    model = model_store.current_model()
    if model is None:
        raise SystemExit(
            f"生产启动不训练模型，但 models/ 中没有与当前数据和配置对应的模型（{model_store.model_path().name}）。"
            "请先运行 `python -m bot serve` 或 `rasa train --fixed-model-name` 训练，或用 --model 指定模型文件。"
        )
    return model


def serve(args) -> int:
    settings = args.runtime.settings
    logs = PROJECT_ROOT / "var" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if not (args.no_demo_data or args.production):
        load_demo_orders()
    model = args.model or (production_model() if args.production else train_if_changed())

    api = api_token(settings)
    env = {
        "AFTERSALES_DATABASE_URL": settings.database_url,
        "PYTHONPATH": str(PROJECT_ROOT),
        **server_security_environment(api, actions_token(settings), settings.max_request_bytes),
    }
    processes = []
    stopping = False

    def stop_all(*_):
        nonlocal stopping
        if stopping:
            return
        stopping = True
        print("\n[serve] 正在停止所有进程……")
        for process in reversed(processes):
            process.stop()
        print("[serve] 已停止。")

    signal.signal(signal.SIGINT, _interrupt)  # also when started from a shell that ignores SIGINT
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        actions = start_action_server(settings.actions_port, env, logs / "actions.log")
        processes.append(actions)
        rasa = start_rasa_server(
            model,
            settings.rasa_port,
            settings.actions_port,
            settings.tracker_store_url or settings.tracker_db,
            env,
            logs / "rasa.log",
            api_token=api,
            cors_origins=settings.cors_origins,
        )
        processes.append(rasa)
        print("[serve] 正在启动动作服务器和 Rasa 服务器（加载模型约需 10-20 秒）……")
        started = time.monotonic()
        wait_until_ready(actions, args.startup_timeout)
        wait_until_ready(rasa, args.startup_timeout, accept=rasa_model_loaded)
        print(_ready_banner(settings, time.monotonic() - started, logs))
        while all(process.is_running() for process in processes):
            time.sleep(1)
        crashed = next(process for process in processes if not process.is_running())
        print(f"[serve] {crashed.name} 意外退出，日志末尾：\n{crashed.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, TimeoutError) as error:
        print(f"[serve] {error}", file=sys.stderr)
        return 1
    finally:
        stop_all()


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _shown_tracker_store(settings) -> str:
    if settings.tracker_store_url:
        return printable_url(settings.tracker_store_url)
    return f"sqlite:///{settings.tracker_db}"


def _ready_banner(settings, seconds: float, logs: Path) -> str:
    rest = f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook"
    return f"""
[serve] 售后助手已就绪（启动用时 {seconds:.0f} 秒）
  Rasa 服务器（REST 渠道 + HTTP API）  http://127.0.0.1:{settings.rasa_port}
  （HTTP API 需要令牌：?token=$(cat var/api_token)，或设置 AFTERSALES_API_TOKEN）
  动作服务器                            http://127.0.0.1:{settings.actions_port}/webhook
  订单/工单数据库                        {settings.database_url}
  对话记录（tracker store）              {_shown_tracker_store(settings)}
  买家网页聊天（演示商店页面）            http://127.0.0.1:{settings.rasa_port}/chat/
  人工客服控制台                          http://127.0.0.1:{settings.rasa_port}/console/
  （第一个控制台账号：.venv/bin/python -m bot agents create 用户名 --role supervisor）
  日志                                  {logs}

  在终端里聊天：   .venv/bin/python -m bot chat
  或用 curl：      curl -s {rest} -H 'Content-Type: application/json' \\
                     -d '{{"sender": "demo", "message": "你好"}}'

  按 Ctrl-C 停止所有进程。
"""
