from nlu_models.entities import extract_entities


def spans(text: str, vocabulary=None) -> list[tuple[str, object, str]]:
    return [
        (e["entity"], e["value"], text[e["start"] : e["end"]])
        for e in extract_entities(text, vocabulary)
    ]


def test_order_numbers() -> None:
    entities = extract_entities("where is order #000000001 please")
    assert [(e["entity"], e["value"], e["start"], e["end"]) for e in entities] == [
        ("order_number", "000000001", 16, 25)
    ]


def test_email_digits_are_not_order_numbers() -> None:
    assert [e["entity"] for e in extract_entities("mail me at jo12345678@example.com")] == ["email"]


def test_prices_and_ranges() -> None:
    assert spans("a hoodie under 60 dollars") == [("price_max", 60.0, "under 60 dollars")]
    assert spans("between 30 and 60") == [
        ("price_max", 60.0, "between 30 and 60"),
        ("price_min", 30.0, "between 30 and 60"),
    ]
    assert spans("from $45 to $20") == [
        ("price_max", 45.0, "from $45 to $20"),
        ("price_min", 20.0, "from $45 to $20"),
    ]
    assert spans("at least $19.99") == [("price_min", 19.99, "at least $19.99")]
    assert spans("order 000000001 under 50")[0] == ("order_number", "000000001", "000000001")


def test_prices_written_amount_first() -> None:
    assert spans("shorts 20 dollars or less") == [("price_max", 20.0, "20 dollars or less")]
    assert spans("20 bucks or under") == [("price_max", 20.0, "20 bucks or under")]
    assert spans("hoodie $40 max") == [("price_max", 40.0, "$40 max")]
    assert spans("bags 50 and up") == [("price_min", 50.0, "50 and up")]
    assert spans("a watch 100+") == [("price_min", 100.0, "100+")]
    assert spans("shorts 30-50 dollars") == [
        ("price_max", 50.0, "30-50 dollars"),
        ("price_min", 30.0, "30-50 dollars"),
    ]
    assert spans("not more than 40") == [("price_max", 40.0, "not more than 40")]
    # a bare range without a currency is not a price: sizes, years, quantities
    assert spans("size 30-32") == [] and spans("2-3 days") == []


def test_catalog_words(luma_vocabulary) -> None:
    assert spans("black hoodie for men under $60", luma_vocabulary) == [
        ("color", "Black", "black"),
        ("category", "Hoodies & Sweatshirts", "hoodie"),
        ("gender", "Men", "men"),
        ("price_max", 60.0, "under $60"),
    ]
    assert spans("a grey t-shirt size xl for ladies", luma_vocabulary) == [
        ("color", "Gray", "grey"),
        ("category", "Tees", "t-shirt"),
        ("size", "XL", "xl"),
        ("gender", "Women", "ladies"),
    ]
    assert spans("is the Chaz Kangeroo Hoodie in red?", luma_vocabulary) == [
        ("product", "Chaz Kangeroo Hoodie", "Chaz Kangeroo Hoodie"),
        ("color", "Red", "red"),
    ]
    assert spans("do you have it in M?", luma_vocabulary) == [("size", "M", "M")]
    assert spans("size 32 pants", luma_vocabulary) == [
        ("size", "32", "32"),
        ("category", "Pants", "pants"),
    ]


def test_ordinary_words_are_not_sizes(luma_vocabulary) -> None:
    assert spans("i'm looking for something, I am a small shop", luma_vocabulary) == []
    assert spans("it is 12345 m long", luma_vocabulary)[0][0] == "order_number"


def test_hostile_text_gives_no_entities_and_no_error(luma_vocabulary) -> None:
    for text in [
        "'; DROP TABLE orders; --",
        "<script>alert(1)</script>",
        "\x00\x1f",
        "",
        "$" * 500,
    ]:
        assert extract_entities(text, luma_vocabulary) == []


def test_positions_in_the_list_shown_are_ordinals() -> None:
    def values(text: str) -> list[object]:
        return [e["value"] for e in extract_entities(text) if e["entity"] == "ordinal"]

    assert values("tell me about the second one") == [2]
    assert values("compare the first two") == [1, 2]
    assert values("compare #1 and option 3") == [1, 3]
    assert values("the last one") == [-1]
    assert values("where is order #000000001") == []


def test_prices_as_shoppers_also_write_them() -> None:
    assert spans("hoodies 40-55") == [("price_max", 55.0, "40-55"), ("price_min", 40.0, "40-55")]
    assert spans("shorts 25 to 35")[0] == ("price_max", 35.0, "25 to 35")
    assert spans("less then 50")[0][:2] == ("price_max", 50.0)  # the typo of "than"
    assert spans("i can spend like 40")[0][:2] == ("price_max", 40.0)
    assert spans("less than thirty dollars") == [("price_max", 30.0, "less than thirty dollars")]
    for not_a_price in ("size 30-32", "2-3 days", "takes 10-12 days", "10-12 cm", "i have 50"):
        assert not [s for s in spans(not_a_price) if s[0].startswith("price")], not_a_price


def test_sizes_and_colours_as_shoppers_type_them(luma_vocabulary) -> None:
    assert spans("mens pants 34", luma_vocabulary)[-1] == ("size", "34", "34")
    assert ("color", "Blue", "blu") in spans("blu shorts 32", luma_vocabulary)
    assert ("color", "Black", "blk") in spans("hoodie blk mens", luma_vocabulary)
    # a number with a currency, or one that is no size of the shop, is no size
    assert not [s for s in spans("shorts 32 dollars", luma_vocabulary) if s[0] == "size"]
    assert not [s for s in spans("hoodie 40", luma_vocabulary) if s[0] == "size"]
