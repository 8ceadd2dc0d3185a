"""The shop-signed identity and the generated relay token."""

from __future__ import annotations

import os
import time

import jwt

from bot.config import Settings
from bot.secrets import persistent_secret, relay_token
from bot.services.identity import sign_customer_token, verified_customer_id

SECRET = "a-shop-secret-of-enough-length-0123456789"


def test_a_token_signed_with_the_shop_secret_names_the_customer():
    assert verified_customer_id(sign_customer_token("shop-c-10021", SECRET), SECRET) == "shop-c-10021"


def test_forged_expired_unsigned_and_malformed_tokens_are_ignored():
    now = time.time()
    assert (
        verified_customer_id(sign_customer_token("shop-c-10021", "another-secret-0123456789abcdef-0123"), SECRET)
        is None
    )
    assert verified_customer_id(sign_customer_token("shop-c-10021", SECRET, now=now - 7200), SECRET) is None
    assert (
        verified_customer_id(jwt.encode({"sub": "shop-c-10021", "exp": int(now) + 60}, None, algorithm="none"), SECRET)
        is None
    )
    assert (
        verified_customer_id(jwt.encode({"sub": "shop-c-10021"}, SECRET, algorithm="HS256"), SECRET) is None
    )  # no exp
    assert verified_customer_id(jwt.encode({"exp": int(now) + 60}, SECRET, algorithm="HS256"), SECRET) is None  # no sub
    assert (
        verified_customer_id(jwt.encode({"sub": "  ", "exp": int(now) + 60}, SECRET, algorithm="HS256"), SECRET) is None
    )
    assert verified_customer_id("not.a.jwt", SECRET) is None
    assert verified_customer_id(None, SECRET) is None


def test_without_a_configured_secret_nothing_is_trusted():
    assert verified_customer_id(sign_customer_token("shop-c-10021", SECRET), "") is None
    assert verified_customer_id(sign_customer_token("shop-c-10021", SECRET), None) is None


def test_the_relay_token_comes_from_settings_or_is_generated_once(tmp_path):
    assert relay_token(Settings.from_env({"AFTERSALES_RELAY_TOKEN": "given"})) == "given"
    path = tmp_path / "var" / "relay_token"
    first = persistent_secret(path)
    assert len(first) >= 40 and persistent_secret(path) == first
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
