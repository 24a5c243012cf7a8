"""The HTTP client every remote shop connector uses, against a real local HTTP server.

What must hold for any shop: the auth header goes with every call; a read is tried again after
a 5xx, a 429 or a dropped connection, a change only when the caller says it is idempotent (a
cancel whose answer was lost may have been done); a 404 is "nothing there"; another 4xx is a
ShopError naming the call; a shop that cannot be reached is ShopUnavailable. The token never
appears in an error or a log line, even when the shop echoes the request back.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from typing import Any, Final

import pytest

from connectors import http
from connectors.errors import ShopError, ShopUnavailable
from connectors.http import ShopClient
from tests.connectors.replay import Answer, Received, ReplayServer, Route, replaying

pytestmark = pytest.mark.live  # each test starts a local HTTP server

TOKEN: Final = "shpat_0123456789abcdef-secret"
AUTH: Final = {"Authorization": f"Bearer {TOKEN}"}
ORDER: Final = {"number": "100023", "status": "Being processed"}
ORDER_PATH: Final = r"/api/orders/1"
CANCEL_PATH: Final = r"/api/orders/1/cancel"
RETRIES: Final = 2
SHORT_TIMEOUT_S: Final = 0.3


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The waits between tries are the client's business, not the tests' time."""
    monkeypatch.setattr(http, "BACKOFF_S", 0.0)


@pytest.fixture
def shop_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def client(server: ReplayServer | str, **options: Any) -> ShopClient:
    url = server if isinstance(server, str) else server.url
    return ShopClient("Test shop", url, AUTH, retries=RETRIES, **options)


@pytest.fixture
def closing() -> Iterator[list[ShopClient]]:
    made: list[ShopClient] = []
    yield made
    for each in made:
        each.close()


def header(request: Received, name: str) -> str | None:
    return next((v for k, v in request.headers.items() if k.lower() == name.lower()), None)


def test_the_auth_header_goes_with_every_call(closing: list[ShopClient]) -> None:
    with replaying(
        Route("GET", ORDER_PATH, (200, ORDER)), Route("POST", CANCEL_PATH, (200, {}))
    ) as server:
        shop = client(server)
        closing.append(shop)
        assert shop.get("/api/orders/1", params={"fields": "number"}) == ORDER
        assert shop.request("POST", "/api/orders/1/cancel", json={"reason": "x"}) == {}
    assert [header(r, "Authorization") for r in server.requests] == [f"Bearer {TOKEN}"] * 2
    assert all(header(r, "Accept") == "application/json" for r in server.requests)
    assert server.requests[0].path == "/api/orders/1?fields=number"
    assert server.requests[1].body == {"reason": "x"}


def test_a_read_is_tried_again_after_a_5xx_or_429(closing: list[ShopClient]) -> None:
    with replaying(
        Route("GET", ORDER_PATH, (503, {"detail": "maintenance"}), times=1),
        Route("GET", ORDER_PATH, (429, {"detail": "slow down"}), times=1),
        Route("GET", ORDER_PATH, (200, ORDER)),
    ) as server:
        shop = client(server)
        closing.append(shop)
        assert shop.get("/api/orders/1") == ORDER
    assert len(server.requests) == 3


def test_a_read_that_keeps_failing_is_unavailable(
    closing: list[ShopClient], shop_logs: pytest.LogCaptureFixture
) -> None:
    with replaying(Route("GET", ORDER_PATH, (502, None))) as server:
        shop = client(server)
        closing.append(shop)
        with pytest.raises(ShopUnavailable, match="HTTP 502") as failure:
            shop.get("/api/orders/1")
    assert len(server.requests) == 1 + RETRIES
    assert "Test shop" in str(failure.value) and "GET /api/orders/1" in str(failure.value)
    assert len([r for r in shop_logs.records if "trying again" in r.getMessage()]) == RETRIES


def test_a_change_is_not_tried_twice_unless_it_is_idempotent(closing: list[ShopClient]) -> None:
    with replaying(
        Route("POST", CANCEL_PATH, (503, None), times=1), Route("POST", CANCEL_PATH, (200, ORDER))
    ) as server:
        shop = client(server)
        closing.append(shop)
        with pytest.raises(ShopUnavailable):
            shop.request("POST", "/api/orders/1/cancel")
        assert len(server.requests) == 1  # the answer may have been lost after the cancel
        assert shop.request("POST", "/api/orders/1/cancel") == ORDER  # the next one is fine
    with replaying(
        Route("PUT", ORDER_PATH, (503, None), times=1), Route("PUT", ORDER_PATH, (200, ORDER))
    ) as server:
        shop = client(server)
        closing.append(shop)
        assert shop.request("PUT", "/api/orders/1", json=ORDER, idempotent=True) == ORDER
    assert len(server.requests) == 2


def test_a_read_marked_not_idempotent_is_tried_once(closing: list[ShopClient]) -> None:
    with replaying(Route("GET", ORDER_PATH, (503, None))) as server:
        shop = client(server)
        closing.append(shop)
        with pytest.raises(ShopUnavailable):
            shop.request("GET", "/api/orders/1", idempotent=False)
    assert len(server.requests) == 1


def free_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_shop_that_refuses_connections_is_unavailable(
    closing: list[ShopClient], shop_logs: pytest.LogCaptureFixture
) -> None:
    shop = client(f"http://127.0.0.1:{free_port()}/api")
    closing.append(shop)
    with pytest.raises(ShopUnavailable, match="did not answer GET /orders/1: ConnectError"):
        shop.get("/orders/1")
    with pytest.raises(ShopUnavailable):
        shop.request("POST", "/orders/1/cancel")
    assert TOKEN not in shop_logs.text


def test_a_shop_that_does_not_answer_in_time_is_unavailable(closing: list[ShopClient]) -> None:
    release = threading.Event()

    def hang(request: Received) -> Answer:
        release.wait(timeout=10)
        return 200, ORDER

    try:
        with replaying(Route("GET", ORDER_PATH, hang)) as server:
            shop = client(server, timeout_s=SHORT_TIMEOUT_S)
            closing.append(shop)
            with pytest.raises(ShopUnavailable, match="ReadTimeout"):
                shop.get("/api/orders/1")
            assert len(server.requests) == 1 + RETRIES
    finally:
        release.set()


def test_not_found_is_none(closing: list[ShopClient]) -> None:
    with replaying() as server:  # no routes: every path is a 404
        shop = client(server)
        closing.append(shop)
        assert shop.get("/api/orders/999") is None
        assert shop.request("POST", "/api/orders/999/cancel") is None
    assert len(server.requests) == 2  # a 404 is an answer: not tried again


def test_an_empty_answer_is_an_empty_object(closing: list[ShopClient]) -> None:
    with replaying(Route("POST", CANCEL_PATH, (204, None))) as server:
        shop = client(server)
        closing.append(shop)
        assert shop.request("POST", "/api/orders/1/cancel") == {}


def test_a_refusal_is_a_shop_error_naming_the_call_not_the_token(
    closing: list[ShopClient], shop_logs: pytest.LogCaptureFixture
) -> None:
    def echo(request: Received) -> Answer:
        """A shop (or a proxy in debug mode) that repeats the request in its error."""
        return 400, {"detail": "bad request", "you sent": header(request, "Authorization")}

    with replaying(Route("POST", CANCEL_PATH, echo), Route("GET", ORDER_PATH, echo)) as server:
        shop = client(server)
        closing.append(shop)
        with pytest.raises(ShopError) as refused:
            shop.request("POST", "/api/orders/1/cancel", json={"reason": "x"})
        with pytest.raises(ShopError) as read:
            shop.get("/api/orders/1")
    assert len(server.requests) == 2  # a 4xx is not tried again
    for error in (refused.value, read.value):
        assert error.status == 400
        assert "Test shop refused" in str(error) and "HTTP 400" in str(error)
        assert "bad request" in str(error) and http.REDACTED in str(error)
        assert TOKEN not in str(error) and TOKEN not in repr(error.args)
    assert "POST /api/orders/1/cancel" in str(refused.value)
    assert TOKEN not in shop_logs.text


def test_a_conflict_keeps_its_status_for_the_connector(closing: list[ShopClient]) -> None:
    with replaying(Route("POST", CANCEL_PATH, (409, {"detail": "already shipped"}))) as server:
        shop = client(server)
        closing.append(shop)
        with pytest.raises(ShopError) as refused:
            shop.request("POST", "/api/orders/1/cancel")
    assert refused.value.status == 409 and "already shipped" in str(refused.value)
