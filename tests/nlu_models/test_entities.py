from nlu_models.entities import extract_entities


def test_order_numbers() -> None:
    entities = extract_entities("where is order #000000001 please")
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in entities] == [
        ("order_number", "000000001", 16, 25)
    ]


def test_email_digits_are_not_order_numbers() -> None:
    entities = extract_entities("mail me at jo12345678@example.com")
    assert [e["entity"] for e in entities] == ["email"]


def test_short_numbers_and_prices_are_not_order_numbers() -> None:
    assert extract_entities("a hoodie under 60 dollars, size 42") == []
