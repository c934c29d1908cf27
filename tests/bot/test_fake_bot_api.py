"""The fake Bot API server itself: it must carry out what Telegram would, and nothing more."""

from __future__ import annotations

import socket
import time
import urllib.request
from urllib.parse import urlencode, urlparse

import pytest

from tests.bot.conftest import TOKEN
from tests.bot.fake_bot_api import FakeBotApiServer


def _connect(server: FakeBotApiServer) -> socket.socket:
    address = urlparse(server.url)
    return socket.create_connection((address.hostname, address.port), timeout=5)


def _headers(length: int) -> bytes:
    return (
        f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def test_a_whole_request_is_carried_out() -> None:
    body = urlencode({"chat_id": 7, "text": "whole"}).encode()
    with FakeBotApiServer() as server:
        request = urllib.request.Request(
            f"{server.url}/bot{TOKEN}/sendMessage",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        (sent,) = server.api.sent()
        assert sent["chat_id"] == "7" and sent["text"] == "whole"


@pytest.mark.parametrize("sent_of_body", [0, 12], ids=["headers only", "part of the body"])
def test_a_request_cut_off_before_its_body_ends_is_not_carried_out(sent_of_body: int) -> None:
    """httpx writes the headers and the body apart, each under the write timeout; when the second
    times out it closes the connection mid-request. Telegram never gets that request whole and does
    not act on it; neither may the fake (it did, and the load test read a sendMessage without a
    chat_id)."""
    body = urlencode({"chat_id": 7, "text": "cut off " * 20}).encode()
    with FakeBotApiServer() as server:
        with _connect(server) as client:
            client.sendall(_headers(len(body)) + body[:sent_of_body])
            client.shutdown(socket.SHUT_WR)
            assert client.recv(1024) == b""  # closed without an answer
        with _connect(server) as client:  # the server is still serving
            client.sendall(_headers(len(body)) + body)
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 5
        while len(server.api.calls) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [(method, params["chat_id"]) for method, params in server.api.calls] == [("sendMessage", "7")]
