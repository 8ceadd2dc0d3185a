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
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings.from_env()
