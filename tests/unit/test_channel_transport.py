"""How a channel node reaches its peers is chosen once, when the node is built."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.channels.node import ChannelConfig, ChannelNode
from shared.channels.transport import Transport

CONFIG = ChannelConfig(agent_url="http://agent.invalid", public_url="http://a/peer")


def _clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


def test_no_proxy_means_the_link(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    assert Transport(5.0).kind == "link"


def test_a_proxy_in_the_environment_is_asked_per_peer(monkeypatch: pytest.MonkeyPatch) -> None:
    _clear_proxies(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert Transport(5.0).kind == "proxy-aware"


def test_the_choice_is_kept_when_the_environment_changes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _clear_proxies(monkeypatch)
    node = ChannelNode(Ed25519PrivateKey.generate(), f"sqlite:///{tmp_path}/n.db", CONFIG)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert node._core.transport.kind == "link"


def test_a_given_client_carries_everything(tmp_path: Path) -> None:
    client = httpx.AsyncClient()
    node = ChannelNode(
        Ed25519PrivateKey.generate(), f"sqlite:///{tmp_path}/n.db", CONFIG, http_client=client
    )
    assert node._core.transport.kind == "client"
    assert node._core.transport.http() is client
