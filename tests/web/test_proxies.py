"""X-Forwarded-For and X-Forwarded-Proto count only from a trusted proxy (web/proxies.py), and
every per-client limit (the HTTP limit, the socket.io connect limit) uses that one answer."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog.db import migrate
from core.settings import SettingsError
from web.app import HTTP_REQUESTS_PER_MINUTE, create_app
from web.limits import ShopperChannelSettings
from web.proxies import (
    MAX_FORWARDED_HOPS,
    PEER_KEY,
    TrustedProxies,
    client_address,
    forwarded_client,
    forwarded_scheme,
    is_https,
    is_trusted,
    parse_trusted_proxies,
    resolved_scope,
)
from web.settings import WebSettings
from web.shopper import client_address as socket_client_address

LOCAL: TrustedProxies = parse_trusted_proxies("127.0.0.1, ::1")
PROXY_NETWORK: TrustedProxies = parse_trusted_proxies("10.0.0.0/8")
ATTACKER = "203.0.113.66"
CONNECTS = 5  # the socket.io handshakes allowed per address in the app tests


def scope(
    peer: str | None, headers: dict[str, str] | None = None, kind: str = "http"
) -> dict[str, Any]:
    return {
        "type": kind,
        "scheme": "ws" if kind == "websocket" else "http",
        "client": (peer, 41000) if peer is not None else None,
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
    }


# ---------------------------------------------------------------- the setting


def test_trusted_proxies_are_addresses_and_networks() -> None:
    assert parse_trusted_proxies("") == ()
    assert parse_trusted_proxies(" 127.0.0.1 , ::1,10.0.0.0/8, ") == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.0/8"),
    )
    assert parse_trusted_proxies("10.1.2.3/8") == (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("bad", ["proxy.example.com", "*", "10.0.0.0/33", "127.0.0.1;rm"])
def test_a_setting_that_is_not_an_address_stops_the_server_with_a_sentence(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"SHOPDESK_TRUSTED_PROXIES: .* is not an IP address"):
        WebSettings.from_env({"SHOPDESK_TRUSTED_PROXIES": f"127.0.0.1,{bad}"})


def test_nobody_is_trusted_unless_named() -> None:
    assert WebSettings.from_env({}).trusted_proxies == ()
    named = WebSettings.from_env({"SHOPDESK_TRUSTED_PROXIES": "127.0.0.1"})
    assert named.trusted_proxies == (ipaddress.ip_network("127.0.0.1/32"),)
    assert repr(named).startswith("WebSettings(")  # still without the token


# ---------------------------------------------------------------- the rule


def test_a_direct_client_cannot_name_its_own_address() -> None:
    assert forwarded_client(ATTACKER, ["1.2.3.4"], LOCAL) == ATTACKER
    assert forwarded_client(ATTACKER, ["1.2.3.4"], ()) == ATTACKER
    assert forwarded_client("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"  # nothing trusted


def test_behind_a_trusted_proxy_the_client_is_the_address_it_saw() -> None:
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], LOCAL) == "198.51.100.7"
    assert forwarded_client("127.0.0.1", [], LOCAL) == "127.0.0.1"  # the proxy's own request


def test_addresses_a_client_prepends_are_ignored() -> None:
    # nginx appends the address it saw to whatever the client sent
    assert forwarded_client("127.0.0.1", ["6.6.6.6, 7.7.7.7, 198.51.100.7"], LOCAL) == (
        "198.51.100.7"
    )
    assert forwarded_client("127.0.0.1", ["6.6.6.6", "198.51.100.7"], LOCAL) == "198.51.100.7"


def test_a_chain_of_trusted_proxies_is_walked_to_the_first_stranger() -> None:
    hops = ["6.6.6.6, 198.51.100.7, 10.0.0.2, 10.0.0.3"]
    assert forwarded_client("10.0.0.4", hops, PROXY_NETWORK) == "198.51.100.7"
    assert forwarded_client("10.0.0.4", ["10.0.0.2, 10.0.0.3"], PROXY_NETWORK) == "10.0.0.2"


@pytest.mark.parametrize(
    ("header", "client"),
    [
        ("unknown, 198.51.100.7", "198.51.100.7"),
        ("198.51.100.7, <script>", "127.0.0.1"),  # malformed: stop at the proxy that wrote it
        ("198.51.100.7:5555", "198.51.100.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("", "127.0.0.1"),
    ],
)
def test_forwarded_hops_in_every_shape(header: str, client: str) -> None:
    assert forwarded_client("127.0.0.1", [header], LOCAL) == client


def test_an_endless_chain_is_read_only_so_far() -> None:
    chain = ", ".join(["127.0.0.1"] * (10 * MAX_FORWARDED_HOPS))
    assert forwarded_client("127.0.0.1", [f"6.6.6.6, {chain}"], LOCAL) == "127.0.0.1"


def test_a_mapped_or_odd_peer_is_judged_by_its_address() -> None:
    assert is_trusted("::ffff:127.0.0.1", LOCAL)
    assert not is_trusted("testclient", LOCAL) and not is_trusted("", LOCAL)


def test_the_scheme_comes_from_a_trusted_proxy_only() -> None:
    assert forwarded_scheme("127.0.0.1", "http", "https", LOCAL) == "https"
    assert forwarded_scheme("127.0.0.1", "ws", "https", LOCAL) == "wss"
    assert forwarded_scheme("127.0.0.1", "http", "http, https", LOCAL) == "https"
    assert forwarded_scheme(ATTACKER, "http", "https", LOCAL) == "http"
    assert forwarded_scheme("127.0.0.1", "http", "gopher", LOCAL) == "http"
    assert forwarded_scheme("127.0.0.1", "http", None, LOCAL) == "http"


def test_the_resolved_scope_is_what_every_limit_reads() -> None:
    spoofed = {"X-Forwarded-For": "1.2.3.4", "X-Forwarded-Proto": "https"}
    direct = resolved_scope(scope(ATTACKER, spoofed), LOCAL)
    assert client_address(direct) == ATTACKER and not is_https(direct)
    proxied = resolved_scope(scope("127.0.0.1", spoofed), LOCAL)
    assert client_address(proxied) == "1.2.3.4" and is_https(proxied)
    assert proxied[PEER_KEY] == "127.0.0.1"
    socket = resolved_scope(scope("127.0.0.1", spoofed, "websocket"), LOCAL)
    assert socket["scheme"] == "wss"
    # the shopper's socket (socket.io's environ) gets the same answer
    assert socket_client_address({"asgi.scope": proxied, "REMOTE_ADDR": "127.0.0.1"}) == "1.2.3.4"
    assert socket_client_address({"asgi.scope": direct}) == ATTACKER
    assert client_address(scope(None)) == ""  # a Unix socket has no address


# ---------------------------------------------------------------- the app


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.sqlite3'}"
    migrate(url)
    return url


def app_client(db_url: str, trusted: str, peer: str) -> TestClient:
    app: Any = create_app(
        WebSettings(
            rasa_urls=("http://127.0.0.1:9",),
            rasa_token="unused",
            trusted_proxies=parse_trusted_proxies(trusted),
        ),
        db_url,
        b"k" * 40,
        ShopperChannelSettings(connects_per_minute=CONNECTS),
    )
    return TestClient(app, client=(peer, 50000), raise_server_exceptions=False)


@pytest.fixture
def direct(db_url: str) -> Iterator[TestClient]:
    """A client reaching the server straight from ATTACKER, which trusts 127.0.0.1."""
    with app_client(db_url, "127.0.0.1", ATTACKER) as client:
        yield client


@pytest.fixture
def proxied(db_url: str) -> Iterator[TestClient]:
    """Requests through a proxy on 127.0.0.1, which the server trusts."""
    with app_client(db_url, "127.0.0.1", "127.0.0.1") as client:
        yield client


def spoofed(n: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"}


def test_a_direct_client_naming_new_addresses_is_still_rate_limited(direct: TestClient) -> None:
    answers = [direct.get("/agent/api/me", headers=spoofed(n)).status_code for n in range(310)]
    assert answers[:HTTP_REQUESTS_PER_MINUTE] == [401] * HTTP_REQUESTS_PER_MINUTE
    assert set(answers[HTTP_REQUESTS_PER_MINUTE:]) == {429}


def test_behind_the_trusted_proxy_each_shopper_has_its_own_limit(proxied: TestClient) -> None:
    answers = {proxied.get("/agent/api/me", headers=spoofed(n)).status_code for n in range(310)}
    assert answers == {401}
    one = [proxied.get("/agent/api/me", headers=spoofed(7)).status_code for _ in range(300)]
    assert one[-1] == 429  # the same shopper over and over is limited as itself


def handshake(client: TestClient, n: int) -> int:
    path = "/socket.io/?EIO=4&transport=polling"
    return client.get(path, headers=spoofed(n)).status_code


def test_the_socket_connect_limit_counts_the_same_address(
    direct: TestClient, proxied: TestClient
) -> None:
    assert [handshake(direct, n) for n in range(CONNECTS + 2)][-2:] == [429, 429]
    assert {handshake(proxied, n) for n in range(CONNECTS + 2)} == {200}
