"""Telegram as a Rasa input channel that keeps photos and videos.

Rasa's built-in Telegram channel drops every message without text. This one also takes
photos (the largest size Telegram offers), videos and photos/videos sent as files: it
downloads them through the Bot API (getFile, then the file URL), stores them as evidence and
passes them on as message attachments.

credentials.yml:

    channels.telegram.TelegramInput:
      access_token: "123456:ABC..."    # from @BotFather
      secret_token: "..."              # the secret_token given to setWebhook
      api_base_url: https://api.telegram.org   # optional; tests point it at a local fake

Telegram posts updates to https://<host>/webhooks/telegram/webhook with the header
X-Telegram-Bot-Api-Secret-Token; requests without the right value are refused with 403.
Only private chats are served (a group would share one conversation between its members);
other updates are acknowledged and ignored. The Rasa conversation id is `telegram:<chat id>`
(bot.messaging.conversation_ids).
"""

from __future__ import annotations

import hmac
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

from aiogram import Bot, types
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import NetworkError, TelegramAPIError
from aiohttp import ClientError, ClientResponseError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.messaging.conversation_ids import TELEGRAM, conversation_id, platform_id
from bot.services.evidence_store import EvidenceRejected
from bot.nlu.normalization import clean_inbound_text
from channels.messaging_support import ATTACHMENT_ONLY_TEXT, answering_outages, domain_text, store_attachment
from channels.agent_relay import answering_pings

logger = logging.getLogger(__name__)

OFFICIAL_API = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
START_COMMAND = "/start"
GREETING = "/greet"
SEND_TEXT_OR_PHOTO = "utter_send_text_or_photo"
EVIDENCE_NOT_SAVED = "utter_evidence_not_saved"


class EvidenceNotDownloaded(Exception):
    pass


class TelegramNetworkError(TelegramAPIError):
    """A Bot API call that got no answer. str() names the method and the error type only:
    aiohttp's messages quote the request URL, which contains the bot token."""


class AfterSalesTelegramOutput(TelegramOutput):
    """Rasa's Telegram output on a configurable Bot API server; buttons one per row. Recipients
    are conversation ids (`telegram:<chat id>`) or chat ids."""

    def __init__(self, access_token: str, api_base_url: str = OFFICIAL_API) -> None:
        Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(api_base_url))

    async def request(
        self, method: str, data: Optional[Dict] = None, files: Optional[Dict] = None, **kwargs: Any
    ) -> Any:
        try:
            return await super().request(method, data, files, **kwargs)
        except NetworkError as error:
            cause = type(error.__context__).__name__ if error.__context__ else type(error).__name__
            raise TelegramNetworkError(f"Telegram 接口 {method} 网络错误：{cause}") from None

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await super().send_text_message(platform_id(TELEGRAM, recipient_id), text, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await super().send_image_url(platform_id(TELEGRAM, recipient_id), image, **kwargs)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        await super().send_custom_json(platform_id(TELEGRAM, recipient_id), json_message, **kwargs)

    async def send_agent_image(self, recipient_id: Text, path: Path, attachment: Dict[str, Any], agent: Text) -> None:
        """An agent's image from the evidence store, uploaded with sendPhoto (Telegram cannot
        fetch the shop's /evidence/ URL, which needs a login)."""
        photo = types.InputFile(str(path), filename=attachment.get("name") or Path(path).name)
        await self.send_photo(platform_id(TELEGRAM, recipient_id), photo)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        # Chinese button titles are long: one per row reads better than Rasa's single row
        button_type = kwargs.pop("button_type", "vertical")
        await super().send_text_with_buttons(
            platform_id(TELEGRAM, recipient_id), text, buttons, button_type=button_type, **kwargs
        )

    async def download(self, file_id: str) -> Tuple[bytes, Optional[str]]:
        """The bytes of a file the buyer sent, and its path on Telegram's server."""
        try:
            file = await self.get_file(file_id)
            async with self.session.get(self.get_file_url(file.file_path)) as answer:
                answer.raise_for_status()
                return await answer.read(), file.file_path
        except TelegramAPIError as error:  # Telegram's own description, or TelegramNetworkError
            raise EvidenceNotDownloaded(f"getFile 失败：{error}") from None
        except ClientResponseError as error:  # its str() holds the file URL with the token
            raise EvidenceNotDownloaded(f"下载文件失败：HTTP {error.status}") from None
        except ClientError as error:
            raise EvidenceNotDownloaded(f"下载文件失败：{type(error).__name__}") from None


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        missing = [key for key in ("access_token", "secret_token") if not str(credentials.get(key) or "").strip()]
        if missing:
            raise RasaException(
                f"credentials.yml 中 channels.telegram.TelegramInput 缺少 {', '.join(missing)}"
                "（见 README「Messaging apps: WeChat and Telegram」）。"
            )
        return cls(
            access_token=str(credentials["access_token"]).strip(),
            secret_token=str(credentials["secret_token"]).strip(),
            api_base_url=str(credentials.get("api_base_url") or OFFICIAL_API).strip(),
        )

    def __init__(self, access_token: str, secret_token: str, api_base_url: str = OFFICIAL_API) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.api_base_url = api_base_url
        self._output: Optional[AfterSalesTelegramOutput] = None

    def get_output_channel(self) -> AfterSalesTelegramOutput:
        # one Bot (one HTTP connection pool) per process, created on first use
        if self._output is None:
            self._output = AfterSalesTelegramOutput(self.access_token, self.api_base_url)
        return self._output

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # 「在吗」 while waiting for a person; a turn that fails answers in Chinese and keeps the message
        on_new_message = answering_outages(answering_pings(on_new_message))
        webhook = Blueprint("aftersales_telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", errors="replace")
            if not hmac.compare_digest(given, self.secret_token.encode("utf-8")):
                return response.text(f"{SECRET_HEADER} 不正确，更新未处理。", status=403)
            try:
                update = types.Update.to_object(request.json)
            except Exception:  # not JSON, or not an Update
                return response.text("请求体不是 Telegram Update JSON。", status=400)
            try:
                await self._handle(update, on_new_message, request.app)
            except Exception:  # answered 200 anyway: Telegram would only re-send the same update
                logger.exception("处理 Telegram 更新 %s 失败", update.update_id)
            return response.text("success")

        return webhook

    async def _handle(
        self, update: types.Update, on_new_message: Callable[[UserMessage], Awaitable[Any]], app: Any
    ) -> None:
        output = self.get_output_channel()
        metadata: Dict[str, Any] = {}
        message = update.callback_query.message if update.callback_query else (update.message or update.edited_message)
        if message is None or message.chat.type != types.ChatType.PRIVATE:
            return  # channel posts, inline queries, groups: a group would share one conversation
        if update.callback_query:
            text = clean_inbound_text(update.callback_query.data or "")
            await _quietly(output.answer_callback_query(update.callback_query.id))
        else:
            text = clean_inbound_text(message.text or message.caption or "")
            media = _media_of(message)
            if media:
                try:
                    data, path = await output.download(media)
                    metadata["attachments"] = [await store_attachment(data, path.rsplit("/", 1)[-1] if path else None)]
                except (EvidenceNotDownloaded, EvidenceRejected, OSError) as error:
                    logger.warning("Telegram 文件 %s 没能保存为凭证：%s", media, error)
                    await self._tell(output, message.chat.id, app, EVIDENCE_NOT_SAVED)
                    return
                text = text or ATTACHMENT_ONLY_TEXT
            elif not text:
                await self._tell(output, message.chat.id, app, SEND_TEXT_OR_PHOTO)
                return
        if not text:
            return
        if text.split("@", 1)[0] == START_COMMAND:
            text = GREETING
        await on_new_message(
            UserMessage(
                text,
                output,
                conversation_id(TELEGRAM, message.chat.id),
                input_channel=self.name(),
                metadata=metadata or None,
            )
        )

    @staticmethod
    async def _tell(output: AfterSalesTelegramOutput, chat_id: int, app: Any, response_name: str) -> None:
        text = domain_text(app, response_name)
        if text:
            await output.send_text_message(str(chat_id), text)


def _media_of(message: types.Message) -> Optional[str]:
    """The file id of the photo (largest size) or video in a message, if any."""
    if message.photo:
        largest = max(message.photo, key=lambda size: (size.width or 0) * (size.height or 0))
        return largest.file_id
    if message.video:
        return message.video.file_id
    document = message.document
    if document and str(document.mime_type or "").startswith(("image/", "video/")):
        return document.file_id
    return None


async def _quietly(call: Awaitable[Any]) -> None:
    try:
        await call
    except (TelegramAPIError, ClientError) as error:
        logger.warning("Telegram 接口调用失败：%s", error)
