"""Shared fixtures: no network, isolated settings, and seed indexes built once per session."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config import Settings, load_settings
from index import SentenceTransformerEmbedder, build_index
from retrieval import Retriever

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond this machine fails the test that makes it."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and host not in _LOOPBACK and not host.startswith("/"):
            raise RuntimeError(f"test tried to reach {address!r}; tests run offline")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _clear_own_environment(patch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("QUOTEDESK_"):
            patch.delenv(key)


@pytest.fixture(scope="session", autouse=True)
def _isolated_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The session-wide fixtures below (settings, the seed indexes) are made before any test's own
    isolation runs, so they too must not see the developer's QUOTEDESK_ variables or ``.env``: a
    backend set there (onnx-int8) would otherwise be what the tests load."""
    with pytest.MonkeyPatch.context() as patch:
        _clear_own_environment(patch)
        patch.chdir(tmp_path_factory.mktemp("session-cwd"))
        yield


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _clear_own_environment(monkeypatch)
    monkeypatch.setenv("QUOTEDESK_INDEX_DIR", str(tmp_path / "default-index"))
    monkeypatch.chdir(tmp_path)  # no stray .env is read


@pytest.fixture(scope="session")
def settings() -> Settings:
    return load_settings(index={"dir": Path("/nonexistent-unused")})


@pytest.fixture(scope="session")
def embedder(settings: Settings) -> SentenceTransformerEmbedder:
    model = SentenceTransformerEmbedder(settings.model)
    model.warm_up()
    return model


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, settings: Settings, embedder: Any) -> Path:
    directory = tmp_path_factory.mktemp("seed-index")
    build_index(settings, index_dir=directory, embedder=embedder)
    return directory


@pytest.fixture(scope="session")
def bm25_index(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Path:
    directory = tmp_path_factory.mktemp("bm25-index")
    build_index(settings, index_dir=directory, embedder=None, model_problem="model disabled for the test")
    return directory


@pytest.fixture(scope="session")
def retriever(seed_index: Path, settings: Settings) -> Iterator[Retriever]:
    yield Retriever.load(seed_index, settings=settings)
