from catalog.db import session_scope
from catalog.orders import find_order, normalise_order_number


def test_order_numbers_are_normalised() -> None:
    assert normalise_order_number("#1") == "000000001"
    assert normalise_order_number(" 000000002 ") == "000000002"
    assert normalise_order_number("abc") is None
    assert normalise_order_number("9" * 25) is None


def test_finds_the_luma_sample_orders(luma_db_url: str) -> None:
    with session_scope(luma_db_url) as session:
        first = find_order(session, "1")
        assert first is not None and first.status == "processing"
        assert [line.name for line in first.lines] == ["Iris Workout Top"]
        refunded = find_order(session, "000000002")
        assert refunded is not None and refunded.status == "refunded"
        assert find_order(session, "000000099") is None
