"""A fake Telegram Bot API, as a replaced request class (offline tests) or an HTTP server on
127.0.0.1 (end-to-end tests against the real ``quotedesk bot`` process)."""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 4242,
    "is_bot": True,
    "first_name": "QuoteDesk",
    "username": "quotedesk_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# Parameters PTB sends JSON-encoded inside form fields.
_JSON_FIELDS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "entities",
    "link_preview_options",
    "reply_parameters",
    "scope",
}


class FakeBotApi:
    """State of the fake server: updates waiting to be fetched and every call the bot made."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = threading.Condition()

    # --- what a test does -----------------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        with self._changed:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        with self._changed:
            return [
                p
                for m, p in self.calls
                if m == method and (chat_id is None or int(p.get("chat_id", 0)) == chat_id)
            ]

    def wait_for(
        self, method: str, count: int, chat_id: int | None = None, timeout: float = 60
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    p
                    for m, p in self.calls
                    if m == method and (chat_id is None or int(p.get("chat_id", 0)) == chat_id)
                ]
                if len(found) >= count or time.monotonic() > deadline:
                    return found
                self._changed.wait(timeout=0.2)

    # --- what the bot does ----------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> Any:
        with self._changed:
            self.calls.append((method, {**params, "_at": time.monotonic()}))
            self._changed.notify_all()
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            return self._get_updates(params)
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method in (
            "sendChatAction",
            "answerCallbackQuery",
            "setMyCommands",
            "deleteWebhook",
            "setWebhook",
            "editMessageReplyMarkup",
            "close",
            "logOut",
        ):
            return True
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        raise LookupError(method)

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        with self._changed:
            while True:
                ready = [u for u in self._updates if u["update_id"] >= offset]
                if ready or time.monotonic() >= deadline:
                    return ready
                self._changed.wait(timeout=0.1)


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    params = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        params[key] = value
    return params


class RecordingRequest(BaseRequest):
    """python-telegram-bot's request class replaced: no network, answers from a :class:`FakeBotApi`."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = decode_params(request_data.json_parameters if request_data else {})
        try:
            result = self.api.handle(name, params)
        except LookupError:
            return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()


@dataclass
class Faults:
    """Failures to inject into the methods in ``methods``, each with its probability per call."""

    error_500: float = 0.0
    retry_429: float = 0.0
    drop: float = 0.0  # close the connection without an answer
    slow: float = 0.0  # answer after ``slow_seconds`` (the call is carried out: the client timed out)
    slow_seconds: float = 3.0
    methods: frozenset[str] = frozenset({"sendMessage", "sendChatAction", "answerCallbackQuery"})
    seed: int = 7
    injected: dict[str, int] = field(default_factory=lambda: {"500": 0, "429": 0, "drop": 0, "slow": 0})

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def draw(self, method: str) -> str | None:
        if method not in self.methods:
            return None
        with self._lock:
            roll = self._rng.random()
            for kind, chance in (
                ("500", self.error_500),
                ("429", self.retry_429),
                ("drop", self.drop),
                ("slow", self.slow),
            ):
                if roll < chance:
                    self.injected[kind] += 1
                    return kind
                roll -= chance
        return None


class FakeBotApiServer:
    """The fake API over HTTP on 127.0.0.1 and a free port, in a background thread."""

    def __init__(
        self, api: FakeBotApi | None = None, faults: Faults | None = None, *, keep_alive: bool = True
    ) -> None:
        self.api = api or FakeBotApi()
        self.faults = faults
        outer = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as Telegram's servers, unless asked not to (see keep_alive).
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if len(data) < length:
                    # The client hung up before its body ended (a write that timed out after the
                    # headers went). Telegram never gets such a request whole, so nothing happens.
                    self.close_connection = True
                    return
                body = data.decode("utf-8")
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    raw = json.loads(body or "{}")
                else:
                    raw = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
                self._answer(raw)

            def do_GET(self) -> None:
                self._answer({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})

            def _answer(self, raw: dict[str, Any]) -> None:
                method = urlparse(self.path).path.rsplit("/", 1)[-1]
                fault = outer.faults.draw(method) if outer.faults else None
                if fault == "drop":
                    self.close_connection = True
                    return
                if fault in ("500", "429"):
                    payload_error: dict[str, Any] = (
                        {"ok": False, "error_code": 500, "description": "Internal Server Error"}
                        if fault == "500"
                        else {
                            "ok": False,
                            "error_code": 429,
                            "description": "Too Many Requests: retry after 1",
                            "parameters": {"retry_after": 1},
                        }
                    )
                    self._write(int(payload_error["error_code"]), payload_error)
                    return
                if fault == "slow":
                    assert outer.faults is not None
                    time.sleep(outer.faults.slow_seconds)
                try:
                    status, payload = (
                        200,
                        {"ok": True, "result": outer.api.handle(method, decode_params(raw))},
                    )
                except LookupError:
                    status, payload = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
                self._write(status, payload)

            def _write(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            # The default backlog of 5 drops connections under a few hundred concurrent requests.
            request_queue_size = 1024

            def handle_error(self, request: Any, client_address: Any) -> None:
                """A client that hung up (or a connection dropped on purpose) is not news."""

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeBotApiServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- update factories ---------------------------------------------------------------------------

_message_ids = itertools.count(1)


def user(user_id: int = 111) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}


def message_update(
    text: str,
    *,
    chat_id: int = 111,
    user_id: int = 111,
    chat_type: str = "private",
    entities: list[dict[str, Any]] | None = None,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    chat = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Newsroom"
    message: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": user(user_id),
        "text": text,
    }
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if entities:
        message["entities"] = entities
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"message": message}


def mention_update(text: str, **kwargs: Any) -> dict[str, Any]:
    handle = f"@{BOT_USER['username']}"
    full = f"{handle} {text}"
    return message_update(full, entities=[{"type": "mention", "offset": 0, "length": len(handle)}], **kwargs)


def callback_update(
    data: str, *, chat_id: int = 111, user_id: int = 111, message_id: int = 1000
) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": str(next(_message_ids)),
            "from": user(user_id),
            "chat_instance": "ci",
            "data": data,
            "message": {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": "answer",
            },
        }
    }
