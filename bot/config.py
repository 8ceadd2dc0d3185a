"""The one configuration object: environment variables with documented defaults.

| variable                          | default                          | meaning |
|-----------------------------------|----------------------------------|---------|
| AFTERSALES_DATABASE_URL           | sqlite:///<repo>/var/aftersales.db | orders/tickets database (SQLAlchemy URL; postgresql+psycopg2://... for PostgreSQL) |
| AFTERSALES_POLICY_FILE            | <repo>/shop/policy.yml           | the shop's after-sales policy (windows, warranties, SLAs ...) |
| AFTERSALES_ORDER_NUMBER_PATTERN   | \\d{16}                          | regular expression of the shop's order numbers, applied to digits after normalisation |
| AFTERSALES_TICKET_NUMBER_PATTERN  | AS\\d{12}                        | regular expression of ticket numbers (AS + date + daily sequence) |
| AFTERSALES_TIMEZONE               | Asia/Shanghai                    | the shop's time zone: "today" and day counts are taken there |
| AFTERSALES_EVIDENCE_DIR           | <repo>/var/evidence              | where uploaded evidence files are stored |
| AFTERSALES_RASA_PORT              | 5005                             | Rasa server port (REST channel and HTTP API) |
| AFTERSALES_ACTIONS_PORT           | 5055                             | action server port |
| AFTERSALES_TRACKER_DB             | <repo>/var/tracker.db            | SQLite file of Rasa's SQL tracker store (conversations) |
| AFTERSALES_IDENTITY_CHANNELS      | webchat                          | comma-separated input channels whose `customer_id` metadata is a verified, shop-signed identity |
| AFTERSALES_TRACKER_STORE_URL      | (empty: SQLite AFTERSALES_TRACKER_DB) | SQLAlchemy URL of the tracker store, e.g. postgresql://user@host/rasa |
| AFTERSALES_MAX_IMAGE_BYTES        | 10485760 (10 MB)                 | largest evidence photo accepted by the upload endpoint |
| AFTERSALES_MAX_VIDEO_BYTES        | 52428800 (50 MB)                 | largest evidence video accepted by the upload endpoint |
| AFTERSALES_RELAY_TOKEN            | (empty: generated once into var/relay_token) | bearer token of the agent relay API /webhooks/agent_relay/* |
| AFTERSALES_SHOP_JWT_SECRET        | (empty: signed identity off)     | HS256 secret the shop signs buyer identities (JWT) with |
| AFTERSALES_CONSOLE_SESSION_HOURS  | 8                                | how long an agent console login lasts |
| AFTERSALES_REDIS_URL              | (empty: files under AFTERSALES_MESSAGING_STATE_DIR) | Redis shared by all processes for messaging-app state (access tokens, retry de-duplication, last buttons) |
| AFTERSALES_MESSAGING_STATE_DIR    | <repo>/var/messaging             | that state as fcntl-locked files when no Redis URL is set |
| AFTERSALES_API_TOKEN              | (empty: generated once into var/api_token) | token of the Rasa HTTP API (`rasa run --auth-token`) |
| AFTERSALES_DIALOGUE_URL           | (empty: the Rasa server's own address) | where the agent desk reaches the Rasa HTTP API (channels/dialogue_api.py) |
| AFTERSALES_CORS_ORIGINS           | (empty: same origin only)        | comma-separated origins allowed to call the Rasa server from a browser |
| AFTERSALES_ACTIONS_HOST           | 127.0.0.1                        | interface the action server listens on |
| AFTERSALES_MAX_MESSAGE_CHARS      | 2000                             | longest buyer message; longer ones are answered with a Chinese notice |
| AFTERSALES_MAX_REQUEST_BYTES      | 1048576 (1 MB)                   | largest request body of the Rasa server (uploads stream and have their own limit) |
| AFTERSALES_VERIFY_ATTEMPTS_PER_ORDER | 10 per hour                   | wrong phone digits for one order (all conversations) before it is locked |
| AFTERSALES_LOGIN_ATTEMPTS         | 5 per 15 minutes per account, 30 per client | failed console logins before further tries are refused |
| AFTERSALES_UPLOADS_PER_CLIENT     | 60 per hour                      | evidence uploads from one client address |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Tuple

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'aftersales.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    policy_file: Path = PROJECT_ROOT / "shop" / "policy.yml"
    order_number_pattern: str = r"\d{16}"
    ticket_number_pattern: str = r"AS\d{12}"
    timezone: str = "Asia/Shanghai"
    evidence_dir: Path = PROJECT_ROOT / "var" / "evidence"
    rasa_port: int = 5005
    actions_port: int = 5055
    tracker_db: Path = PROJECT_ROOT / "var" / "tracker.db"
    identity_channels: Tuple[str, ...] = ("webchat",)
    tracker_store_url: str = ""
    max_image_bytes: int = 10 * 1024 * 1024
    max_video_bytes: int = 50 * 1024 * 1024
    relay_token: str = ""
    shop_jwt_secret: str = ""
    console_session_hours: int = 8
    redis_url: str = ""
    messaging_state_dir: Path = PROJECT_ROOT / "var" / "messaging"
    api_token: str = ""
    dialogue_url: str = ""
    cors_origins: Tuple[str, ...] = ()
    actions_host: str = "127.0.0.1"
    max_message_chars: int = 2000
    max_request_bytes: int = 1024 * 1024
    verify_attempts_per_order: str = "10/hour"
    login_attempts_per_account: str = "5/15minutes"
    login_attempts_per_client: str = "30/15minutes"
    uploads_per_client: str = "60/hour"
    messages_per_client: str = "30/minute"

    @classmethod
    def from_env(cls, environ: "os._Environ[str] | dict[str, str] | None" = None) -> "Settings":
        env = os.environ if environ is None else environ
        defaults = cls()

        def text(name: str, default: str) -> str:
            value = env.get(name, "").strip()
            return value or default

        def port(name: str, default: int) -> int:
            raw = text(name, str(default))
            if not raw.isdigit() or not 0 < int(raw) < 65536:
                raise ValueError(f"环境变量 {name}={raw!r} 不是有效端口号（1–65535）。")
            return int(raw)

        def positive(name: str, default: int) -> int:
            raw = text(name, str(default))
            if not raw.isdigit() or int(raw) <= 0:
                raise ValueError(f"环境变量 {name}={raw!r} 必须是正整数。")
            return int(raw)

        return cls(
            database_url=text("AFTERSALES_DATABASE_URL", defaults.database_url),
            policy_file=Path(text("AFTERSALES_POLICY_FILE", str(defaults.policy_file))),
            order_number_pattern=text("AFTERSALES_ORDER_NUMBER_PATTERN", defaults.order_number_pattern),
            ticket_number_pattern=text("AFTERSALES_TICKET_NUMBER_PATTERN", defaults.ticket_number_pattern),
            timezone=text("AFTERSALES_TIMEZONE", defaults.timezone),
            evidence_dir=Path(text("AFTERSALES_EVIDENCE_DIR", str(defaults.evidence_dir))),
            rasa_port=port("AFTERSALES_RASA_PORT", defaults.rasa_port),
            actions_port=port("AFTERSALES_ACTIONS_PORT", defaults.actions_port),
            tracker_db=Path(text("AFTERSALES_TRACKER_DB", str(defaults.tracker_db))),
            identity_channels=tuple(
                name.strip()
                for name in text("AFTERSALES_IDENTITY_CHANNELS", ",".join(defaults.identity_channels)).split(",")
                if name.strip()
            ),
            tracker_store_url=text("AFTERSALES_TRACKER_STORE_URL", defaults.tracker_store_url),
            max_image_bytes=positive("AFTERSALES_MAX_IMAGE_BYTES", defaults.max_image_bytes),
            max_video_bytes=positive("AFTERSALES_MAX_VIDEO_BYTES", defaults.max_video_bytes),
            relay_token=text("AFTERSALES_RELAY_TOKEN", defaults.relay_token),
            shop_jwt_secret=text("AFTERSALES_SHOP_JWT_SECRET", defaults.shop_jwt_secret),
            console_session_hours=positive("AFTERSALES_CONSOLE_SESSION_HOURS", defaults.console_session_hours),
            redis_url=text("AFTERSALES_REDIS_URL", defaults.redis_url),
            messaging_state_dir=Path(text("AFTERSALES_MESSAGING_STATE_DIR", str(defaults.messaging_state_dir))),
            api_token=text("AFTERSALES_API_TOKEN", defaults.api_token),
            dialogue_url=text("AFTERSALES_DIALOGUE_URL", defaults.dialogue_url),
            cors_origins=tuple(
                origin.strip() for origin in text("AFTERSALES_CORS_ORIGINS", "").split(",") if origin.strip()
            ),
            actions_host=text("AFTERSALES_ACTIONS_HOST", defaults.actions_host),
            max_message_chars=positive("AFTERSALES_MAX_MESSAGE_CHARS", defaults.max_message_chars),
            max_request_bytes=positive("AFTERSALES_MAX_REQUEST_BYTES", defaults.max_request_bytes),
            verify_attempts_per_order=text("AFTERSALES_VERIFY_ATTEMPTS_PER_ORDER", defaults.verify_attempts_per_order),
            login_attempts_per_account=text("AFTERSALES_LOGIN_ATTEMPTS", defaults.login_attempts_per_account),
            login_attempts_per_client=text("AFTERSALES_LOGIN_ATTEMPTS_PER_CLIENT", defaults.login_attempts_per_client),
            uploads_per_client=text("AFTERSALES_UPLOADS_PER_CLIENT", defaults.uploads_per_client),
            messages_per_client=text("AFTERSALES_MESSAGES_PER_CLIENT", defaults.messages_per_client),
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
