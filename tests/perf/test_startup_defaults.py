"""Start-up defaults: endpoints files (development and production), the Redis lock store, Rasa
telemetry off, and the model reused while its training inputs are unchanged."""

from __future__ import annotations

import shutil
import uuid

import pytest
import yaml

from bot import model_store
from bot.launcher import endpoints_file, rasa_environment
from tests.conftest import PROJECT_ROOT

rasa = pytest.importorskip("rasa")


def test_development_endpoints_need_no_environment(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    for name in ("AFTERSALES_ACTION_ENDPOINT", "AFTERSALES_TRACKER_STORE_URL", "AFTERSALES_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.yml"))
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert endpoints.tracker_store.type == "bot.rasa_tracker_store.AfterSalesSQLTrackerStore"
    assert endpoints.lock_store is None


def test_production_endpoints_take_every_value_from_the_environment(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    monkeypatch.delenv("AFTERSALES_REDIS_URL", raising=False)
    with pytest.raises(Exception, match="AFTERSALES"):
        AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.production.yml"))
    monkeypatch.setenv("AFTERSALES_ACTION_ENDPOINT", "http://actions:5055/webhook")
    monkeypatch.setenv("AFTERSALES_TRACKER_STORE_URL", "postgresql+psycopg2://rasa@postgres/rasa")
    monkeypatch.setenv("AFTERSALES_REDIS_URL", "redis://redis:6379/0")
    monkeypatch.setenv("AFTERSALES_ACTIONS_TOKEN", "shared-actions-token")
    endpoints = AvailableEndpoints.read_endpoints(str(PROJECT_ROOT / "endpoints.production.yml"))
    assert endpoints.action.url == "http://actions:5055/webhook"
    assert endpoints.action.token == "shared-actions-token"  # the action server requires it
    assert endpoints.tracker_store.url == "postgresql+psycopg2://rasa@postgres/rasa"
    assert endpoints.lock_store.url == "redis://redis:6379/0"


def test_launcher_writes_the_run_into_a_copy_of_endpoints(tmp_path):
    path = endpoints_file("http://127.0.0.1:6001/webhook", "sqlite:////tmp/t.db", None, tmp_path / "e.yml")
    written = yaml.safe_load(path.read_text())
    assert written["action_endpoint"]["url"] == "http://127.0.0.1:6001/webhook"
    assert written["tracker_store"] == {
        "type": "bot.rasa_tracker_store.AfterSalesSQLTrackerStore",
        "url": "sqlite:////tmp/t.db",
    }
    assert "lock_store" not in written
    with_redis = yaml.safe_load(
        endpoints_file("http://a/webhook", "sqlite:///x", "redis://127.0.0.1:6379/3", tmp_path / "r.yml").read_text()
    )
    assert with_redis["lock_store"] == {
        "type": "bot.rasa_lock_store.RedisURLLockStore",
        "url": "redis://127.0.0.1:6379/3",
    }
    with_token = endpoints_file("http://a/webhook", "sqlite:///x", None, tmp_path / "t.yml", actions_token="tok")
    assert yaml.safe_load(with_token.read_text())["action_endpoint"]["token"] == "tok"


def test_redis_lock_store_from_the_url():
    redis = pytest.importorskip("redis")
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    url = "redis://127.0.0.1:6379/5"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("没有可用的 Redis（127.0.0.1:6379）")
    store = LockStore.create(EndpointConfig(url=url, type="bot.rasa_lock_store.RedisURLLockStore"))
    conversation = f"buyer-{uuid.uuid4().hex[:8]}"

    async def hold():
        async with store.lock(conversation):
            return redis.Redis.from_url(url).exists(store.key_prefix + conversation)

    import asyncio

    assert asyncio.run(hold()) == 1, "while a turn runs, the lock is in Redis for every replica to see"
    assert redis.Redis.from_url(url).exists(store.key_prefix + conversation) == 0


def test_bad_redis_url_is_refused():
    from bot.rasa_lock_store import redis_settings

    assert redis_settings("rediss://:s3cret@cache:6380/2") == {
        "host": "cache",
        "port": 6380,
        "db": 2,
        "username": None,
        "password": "s3cret",
        "use_ssl": True,
    }
    with pytest.raises(ValueError):
        redis_settings("http://cache:6379")


def test_rasa_telemetry_off_unless_the_shop_turns_it_on(monkeypatch):
    monkeypatch.delenv("RASA_TELEMETRY_ENABLED", raising=False)
    assert rasa_environment()["RASA_TELEMETRY_ENABLED"] == "false"
    monkeypatch.setenv("RASA_TELEMETRY_ENABLED", "true")
    assert rasa_environment()["RASA_TELEMETRY_ENABLED"] == "true"


def test_model_name_follows_the_training_inputs(tmp_path):
    for name in ("config.yml", "domain.yml", "data", "bot/rasa_nlu", "bot/nlu", "bot/rasa_policies"):
        source = PROJECT_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    (tmp_path / "models").mkdir()
    first = model_store.training_fingerprint(tmp_path)
    assert model_store.training_fingerprint(tmp_path) == first
    assert model_store.current_model(tmp_path) is None

    kept = model_store.model_path(tmp_path)
    kept.write_bytes(b"model")  # a model copied into a fresh clone
    assert model_store.current_model(tmp_path) == kept

    (tmp_path / "README.md").write_text("not a training input")
    assert model_store.training_fingerprint(tmp_path) == first
    nlu_file = next((tmp_path / "data").rglob("*.yml"))
    nlu_file.write_text(nlu_file.read_text() + "\n# changed\n")
    assert model_store.training_fingerprint(tmp_path) != first
    assert model_store.current_model(tmp_path) is None
    assert model_store.stale_models(tmp_path, keep=model_store.model_path(tmp_path)) == [kept]
