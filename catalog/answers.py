"""Answers to questions about one product, from its attributes, description and reviews.

The answer quotes what the shop itself wrote (an attribute or a sentence of the
description) rather than paraphrasing it, so the assistant never claims more than the
product page does; when the page says nothing on the topic, the answer says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.models import Product
from catalog.statuses import ReviewStatus

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[a-z0-9%]+")
# Words of a question that say nothing about its topic.
_QUESTION_TEXT = """does come with have this that what will your about there their they them
it's would could should which where when much many tell know product item"""
_QUESTION_WORDS = frozenset(_QUESTION_TEXT.split())


@dataclass(frozen=True)
class Topic:
    name: str
    question_words: tuple[str, ...]  # any of these in the question selects the topic
    attributes: tuple[str, ...]  # attribute names that answer it
    evidence_words: tuple[str, ...]  # description sentences with these answer it


TOPICS = (
    Topic(
        "material",
        ("made of", "material", "fabric", "cotton", "wool", "polyester", "nylon", "leather"),
        ("material",),
        ("cotton", "polyester", "nylon", "wool", "spandex", "lycra", "fabric", "material",
         "leather", "fleece", "mesh", "%"),
    ),
    Topic(
        "weather",
        ("waterproof", "water", "rain", "wet", "wind", "warm", "cold", "winter", "summer", "hot",
         "weather", "breathable"),
        ("climate", "features_bags"),
        ("water", "rain", "waterproof", "wind", "warm", "cold", "insulat", "breath", "weather",
         "heat", "cool", "sweat"),
    ),
    Topic(
        "activity",
        ("good for", "use it for", "suitable", "running", "yoga", "hiking", "gym", "training",
         "workout", "cycling", "travel"),
        ("activity", "style_general", "style_bottom", "style_bags"),
        ("run", "yoga", "hik", "gym", "train", "workout", "cycl", "travel", "sport"),
    ),
    Topic(
        "fit",
        ("fit", "fits", "true to size", "tight", "loose", "length"),
        (),
        ("fit", "fitted", "relaxed", "length", "cut", "slim"),
    ),
    Topic(
        "care",
        ("wash", "washing", "dry", "iron", "clean", "care"),
        (),
        ("wash", "dry", "machine", "care"),
    ),
    Topic(
        "storage",
        ("pocket", "pockets", "compartment", "strap", "laptop", "fit my", "carry"),
        ("features_bags", "strap_bags"),
        ("pocket", "compartment", "strap", "laptop", "zip", "sleeve", "room"),
    ),
    Topic(
        "eco",
        ("eco", "sustainable", "recycled", "environment"),
        ("eco_collection",),
        ("eco", "recycled", "sustainab", "organic"),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Answer:
    text: str
    source: str  # "attributes", "description", "reviews" or "none"


def _topic_for(question: str) -> Topic | None:
    lowered = question.lower()
    for topic in TOPICS:
        if any(re.search(rf"\b{re.escape(word)}", lowered) for word in topic.question_words):
            return topic
    return None


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 3]


def _attribute_text(product: Product, names: tuple[str, ...]) -> str:
    values: dict[str, list[str]] = {}
    for attribute in product.attributes:
        if attribute.name in names:
            values.setdefault(attribute.name.split("_")[0], []).append(attribute.value)
    return "; ".join(f"{name}: {', '.join(found)}" for name, found in values.items())


def _best_sentences(product: Product, question: str, evidence: tuple[str, ...]) -> list[str]:
    asked = {w for w in _WORD.findall(question.lower()) if len(w) > 3} - _QUESTION_WORDS
    scored = []
    for position, sentence in enumerate(_sentences(product.description)):
        lowered = sentence.lower()
        words = set(_WORD.findall(lowered))
        hits = sum(word in lowered for word in evidence) * 2 + len(asked & words)
        if hits:
            scored.append((-hits, position, sentence))
    return [sentence for _, _, sentence in sorted(scored)[:2]]


def answer_question(product: Product, question: str) -> Answer:
    """What the product's page says about the question's topic, quoted, or an honest 'no'."""
    topic = _topic_for(question)
    evidence = topic.evidence_words if topic else ()
    attributes = _attribute_text(product, topic.attributes) if topic else ""
    sentences = _best_sentences(product, question, evidence)
    if not attributes and not sentences:
        return Answer(
            f"The product details of the {product.name} don't say anything about that, "
            "so I can't tell you for sure. Our customer service team can check for you.",
            "none",
        )
    parts = []
    if attributes:
        parts.append(f"The {product.name} is listed with {attributes}.")
    if sentences:
        quoted = " ".join(sentences)
        whose = "Its" if attributes else f"The {product.name}'s"
        parts.append(f"{whose} description says: “{quoted}”")
    return Answer(" ".join(parts), "attributes" if attributes else "description")


def summarise_reviews(product: Product, quotes: int = 2) -> Answer:
    """Average rating, how many reviews, and the best and the most critical review quoted.

    Only approved reviews: one written in the chat waits for a moderator first."""
    reviews = [r for r in product.reviews if r.status == ReviewStatus.APPROVED]
    if not reviews:
        return Answer(f"The {product.name} has no reviews yet.", "none")
    average = sum(r.rating for r in reviews) / len(reviews)
    plural = "review" if len(reviews) == 1 else "reviews"
    text = [f"The {product.name} has {len(reviews)} {plural}, {average:.1f} out of 5 on average."]
    ordered = sorted(reviews, key=lambda r: (-r.rating, r.id))
    chosen = [ordered[0]] if len(ordered) == 1 else [ordered[0], ordered[-1]][:quotes]
    for review in chosen:
        words = review.text.split()
        excerpt = " ".join(words[:40]) + ("…" if len(words) > 40 else "")
        who = review.reviewer or "a shopper"
        text.append(f"{review.rating}★ from {who}: “{excerpt}”")
    return Answer("\n".join(text), "reviews")
