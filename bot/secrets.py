"""Secrets the project generates for itself when the operator did not set one."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def persistent_secret(path: Path) -> str:
    """The secret stored in `path`, created (random, readable by the owner only) on first use,
    so that every process of one installation shares it and it survives restarts."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it right now
            value = path.read_text(encoding="utf-8").strip()
            if value:
                return value
            time.sleep(0.05)
        raise RuntimeError(f"密钥文件 {path} 是空的，请删除它后重新启动。") from None
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="utf-8").strip()


def relay_token(settings) -> str:
    """AFTERSALES_RELAY_TOKEN, or the token generated into var/relay_token."""
    from bot.config import PROJECT_ROOT

    return settings.relay_token or persistent_secret(PROJECT_ROOT / "var" / "relay_token")


def api_token(settings) -> str:
    """AFTERSALES_API_TOKEN, or the token generated into var/api_token: the Rasa HTTP API's
    `--auth-token` (callers pass it as `?token=`)."""
    from bot.config import PROJECT_ROOT

    return settings.api_token or persistent_secret(PROJECT_ROOT / "var" / "api_token")


def actions_token(settings) -> str:
    """AFTERSALES_ACTIONS_TOKEN, or the token generated into var/actions_token: what the Rasa
    server sends the action server (`?token=`, endpoints.yml) and the action server requires."""
    import os
    from bot.config import PROJECT_ROOT

    return os.environ.get("AFTERSALES_ACTIONS_TOKEN", "").strip() or persistent_secret(
        PROJECT_ROOT / "var" / "actions_token"
    )
