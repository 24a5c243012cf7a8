"""Answers about one product from its attributes, description and reviews."""

from catalog.answers import answer_question, summarise_reviews
from catalog.models import Product, ProductAttribute, Review

DESCRIPTION = (
    "A light shell for wet days. The seams are sealed to keep rain out. "
    "Made of 100% recycled polyester. Machine wash cold."
)


def jacket() -> Product:
    product = Product(sku="J1", name="Test Shell", description=DESCRIPTION, price_cents=5000)
    product.attributes = [
        ProductAttribute(name="material", value="Polyester"),
        ProductAttribute(name="climate", value="Rainy"),
    ]
    return product


def test_material_comes_from_the_attribute_and_the_description() -> None:
    answer = answer_question(jacket(), "what is it made of?")
    assert answer.source == "attributes"
    assert "material: Polyester" in answer.text and "100% recycled polyester" in answer.text


def test_waterproof_quotes_the_climate_and_the_rain_sentence() -> None:
    answer = answer_question(jacket(), "is it waterproof?")
    assert "climate: Rainy" in answer.text and "keep rain out" in answer.text


def test_care_is_answered_from_the_description_only() -> None:
    answer = answer_question(jacket(), "can I wash it?")
    assert answer.source == "description" and "Machine wash cold" in answer.text


def test_nothing_on_the_topic_is_said_plainly() -> None:
    answer = answer_question(jacket(), "does it come with a warranty?")
    assert answer.source == "none" and "don't say anything about that" in answer.text


def test_reviews_summary_quotes_the_best_and_the_most_critical() -> None:
    product = jacket()
    product.reviews = [
        Review(id=1, rating=5, text="Kept me dry all day.", reviewer="Ann"),
        Review(id=2, rating=2, text="Runs small.", reviewer="Bo"),
        Review(id=3, rating=4, text="Good.", reviewer="Cy"),
    ]
    answer = summarise_reviews(product)
    assert answer.text.splitlines() == [
        "The Test Shell has 3 reviews, 3.7 out of 5 on average.",
        "5★ from Ann: “Kept me dry all day.”",
        "2★ from Bo: “Runs small.”",
    ]
    assert summarise_reviews(Product(name="Empty")).text == "The Empty has no reviews yet."
