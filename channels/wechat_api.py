"""The WeChat Official Account server API the channel needs: the access token, temporary
media (the buyer's photos) and customer-service messages. Blocking (requests); the channel
calls it from worker threads. Tokens are shared by all processes (bot.messaging)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import requests

from bot.messaging.access_token import AccessTokenCache
from bot.messaging.shared_state import SharedState

OFFICIAL_API = "https://api.weixin.qq.com"
# invalid credential / invalid access_token / access_token expired: fetch a new token, retry once
TOKEN_REJECTED = {40001, 40014, 42001}
_FILENAME = re.compile(r'filename="?([^";]+)"?')


class WeChatApiError(Exception):
    """str() names the API, the platform's errcode/errmsg or the HTTP status / network error
    type, never the request URL: its query holds the AppSecret or the access token."""

    def __init__(self, what: str, errcode: Optional[int], errmsg: str) -> None:
        super().__init__(f"微信接口 {what} 失败：errcode={errcode} errmsg={errmsg}")
        self.errcode = errcode


@dataclass(frozen=True)
class Media:
    data: bytes
    filename: Optional[str]
    content_type: str


class WeChatApi:
    def __init__(
        self, appid: str, secret: str, state: SharedState, base_url: str = OFFICIAL_API, timeout: float = 15.0
    ) -> None:
        self.appid = appid
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._http = requests.Session()
        self.tokens = AccessTokenCache(state, f"wechat:access_token:{appid}", self._fetch_token)

    def send_text(self, openid: str, content: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        self._with_token(
            "message/custom/send",
            lambda token: self._request(
                "message/custom/send",
                "POST",
                f"{self._base}/cgi-bin/message/custom/send",
                params={"access_token": token},
                # WeChat wants UTF-8 JSON, not \\u escapes
                data=_json_utf8(body),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=self._timeout,
            ),
        )

    def download_media(self, media_id: str) -> Media:
        response = self._with_token(
            "media/get",
            lambda token: self._request(
                "media/get",
                "GET",
                f"{self._base}/cgi-bin/media/get",
                params={"access_token": token, "media_id": media_id},
                timeout=self._timeout,
            ),
        )
        video = _json_error_or_none(response, "media/get") or {}
        if video.get("video_url"):  # videos come as a download link instead of the bytes
            response = self._request("media/get video_url", "GET", video["video_url"], timeout=self._timeout)
            if response.status_code >= 400:
                raise WeChatApiError("media/get video_url", None, f"HTTP {response.status_code}")
        match = _FILENAME.search(response.headers.get("Content-Disposition", ""))
        return Media(response.content, match.group(1) if match else None, response.headers.get("Content-Type", ""))

    def _fetch_token(self) -> Tuple[str, float]:
        response = self._request(
            "token",
            "GET",
            f"{self._base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
            timeout=self._timeout,
        )
        result = _json_error_or_none(response, "token") or {}
        if not result.get("access_token"):
            raise WeChatApiError("token", result.get("errcode"), str(result.get("errmsg", "没有返回 access_token")))
        return str(result["access_token"]), float(result.get("expires_in") or 7200)

    def _request(self, what: str, method: str, url: str, **kwargs: Any) -> requests.Response:
        try:
            return self._http.request(method, url, **kwargs)
        except requests.RequestException as error:
            # requests' messages quote the URL with its secret= / access_token= query
            raise WeChatApiError(what, None, f"网络错误 {type(error).__name__}") from None

    def _with_token(self, what: str, call) -> requests.Response:
        token = self.tokens.get()
        response = call(token)
        if _errcode(response, what) in TOKEN_REJECTED:
            self.tokens.invalidate(token)
            response = call(self.tokens.get())
        errcode = _errcode(response, what)
        if errcode:
            raise WeChatApiError(what, errcode, str(_json_error_or_none(response, what).get("errmsg", "")))
        return response


def _json_error_or_none(response: requests.Response, what: str) -> Optional[Dict[str, Any]]:
    """The JSON body of an API answer (errors always come as JSON; media comes as bytes)."""
    if response.status_code >= 400:
        raise WeChatApiError(what, None, f"HTTP {response.status_code}")
    content_type = response.headers.get("Content-Type", "")
    if "json" not in content_type and "text/plain" not in content_type:
        return None
    try:
        result = response.json()
    except ValueError:
        return None
    if isinstance(result, dict) and "errcode" in result:
        result["errcode"] = int(result["errcode"])
    return result if isinstance(result, dict) else None


def _errcode(response: requests.Response, what: str) -> int:
    return (_json_error_or_none(response, what) or {}).get("errcode", 0)


def _json_utf8(body: Dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
