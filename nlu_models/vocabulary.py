"""The catalog's own words: colours, sizes, genders, categories and product names.

Built from the catalog database by `python -m nlu_models ensure` (so it follows every import)
and saved as JSON beside the adapters; the classifier service reads it to find entities.
Aliases map what shoppers type ("grey", "t-shirt", "ladies") to the catalog's value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

VOCABULARY_FILE = "vocabulary.json"
# Top categories that group products for merchandising, not by kind (Luma's "Collections/Eco
# Friendly", "Promotions/Men Sale"): a shopper asks for a hoodie, not for a promotion, so
# their leaves are no category labels. Every other tree is the shop's own taxonomy.
MERCHANDISING_TOPS: frozenset[str] = frozenset(
    {"collections", "promotions", "sale", "sales", "new", "what's new", "new arrivals", "offers"}
)

# Shopper words for the catalog's category names; the key is a word of a category name.
CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "hoodies": ("hoodie", "hoody", "sweatshirt", "sweatshirts", "pullover", "pullovers"),
    "jackets": ("jacket", "coat", "coats", "windbreaker", "windbreakers", "shell"),
    "tees": ("tee", "t-shirt", "t-shirts", "tshirt", "tshirts", "t shirt", "t shirts", "shirt",
             "shirts"),
    "tanks": ("tank", "tank top", "tank tops", "singlet", "singlets"),
    "bras": ("bra", "sports bra", "sports bras"),
    "pants": ("pant", "trousers", "leggings", "tights", "joggers", "capris"),
    "shorts": ("short",),
    "bags": ("bag", "backpack", "backpacks", "duffle", "duffel", "tote", "messenger bag"),
    "watches": ("watch", "smartwatch", "timepiece"),
    "fitness equipment": ("yoga mat", "mat", "mats", "ball", "balls", "strap", "straps",
                          "dumbbell", "dumbbells", "kettlebell", "foam roller", "resistance band"),
}  # fmt: skip
# Other names and the short forms shoppers type ("blk hoodie", "blu shorts").
COLOR_ALIASES = {
    "grey": "Gray", "navy": "Blue", "violet": "Purple", "cream": "White", "blk": "Black",
    "blu": "Blue", "wht": "White", "gry": "Gray", "grn": "Green", "prpl": "Purple",
    "purp": "Purple", "orng": "Orange", "ylw": "Yellow", "brwn": "Brown", "lilac": "Lavender",
}  # fmt: skip
GENDER_ALIASES = {
    "men": "Men", "man": "Men", "mens": "Men", "men's": "Men", "male": "Men", "guys": "Men",
    "for him": "Men", "gentlemen": "Men",
    "women": "Women", "woman": "Women", "womens": "Women", "women's": "Women",
    "female": "Women", "ladies": "Women", "lady": "Women", "for her": "Women",
}  # fmt: skip


@dataclass(frozen=True)
class Vocabulary:
    colors: dict[str, str] = field(default_factory=dict)  # alias (lower case) → catalog value
    sizes: list[str] = field(default_factory=list)
    genders: dict[str, str] = field(default_factory=lambda: dict(GENDER_ALIASES))
    categories: dict[str, str] = field(default_factory=dict)
    products: dict[str, str] = field(default_factory=dict)

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / VOCABULARY_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(self), indent=1, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
        return path

    @classmethod
    def load(cls, folder: Path) -> Vocabulary | None:
        path = folder / VOCABULARY_FILE
        if not path.is_file():
            return None
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def _category_aliases(name: str) -> list[str]:
    """'Hoodies & Sweatshirts' → its own name, each part, and the parts' synonyms."""
    lowered = name.lower()
    aliases = [lowered]
    for part in re.split(r"\s*&\s*|\s+and\s+", lowered):
        aliases.append(part)
        aliases += CATEGORY_SYNONYMS.get(part, ())
    aliases += CATEGORY_SYNONYMS.get(lowered, ())
    return aliases + [singular(a) for a in aliases if singular(a) != a]


def singular(word: str) -> str:
    """A shop's plural category word as a shopper asks for one item ("mugs" → "mug", "glasses"
    is left alone); English only, like the rest of the vocabulary. Its last word only."""
    head, _, last = word.rpartition(" ")
    if len(last) < 4 or not last.endswith("s") or last.endswith("ss"):
        return word
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith(("ches", "shes", "xes")):
        last = last[:-2]
    else:
        last = last[:-1]
    return f"{head} {last}" if head else last


def browse_leaves(paths: Iterable[str]) -> frozenset[str]:
    """The leaves of the shop's own taxonomy among `paths`: the category paths with no child
    path, outside the merchandising trees ("Men/Tops/Jackets", "Gear/Bags", and for another
    shop "Home/Kitchen/Mugs"). Computed from the catalog, not fixed to one shop's top
    categories, so a feed's own `product_type` tree becomes the classifier's labels."""
    known = {p for p in paths if p and p.split("/")[0].lower() not in MERCHANDISING_TOPS}
    parents = {p.rsplit("/", 1)[0] for p in known if "/" in p}
    return frozenset(known - parents)


def build_vocabulary(session: Session) -> Vocabulary:
    """Every colour and size in stock or not, the browse categories and the product names."""
    from catalog.listing import listed
    from catalog.models import Category, Product, Variant

    colors = {c.lower(): c for c in session.scalars(select(Variant.color).distinct()) if c}
    colors |= {alias: value for alias, value in COLOR_ALIASES.items() if value in colors.values()}
    sizes = sorted({s for s in session.scalars(select(Variant.size).distinct()) if s})
    categories: dict[str, str] = {}
    paths = list(session.scalars(select(Category.path)))
    leaves = browse_leaves(paths)
    for path in (p for p in paths if p in leaves):  # the database's order, as always
        leaf = path.split("/")[-1]
        for alias in _category_aliases(leaf):
            categories.setdefault(alias, leaf)
    products: dict[str, str] = {}
    for name in session.scalars(select(Product.name).where(listed())):  # not discontinued
        products[name.lower()] = name
    # "the Chaz Kangeroo" for "Chaz Kangeroo Hoodie": a name without its last word, if unique.
    shortened: dict[str, list[str]] = {}
    for name in products.values():
        words = name.split()
        if len(words) >= 3:
            shortened.setdefault(" ".join(words[:-1]).lower(), []).append(name)
    for alias, names in shortened.items():
        if len(names) == 1 and alias not in categories:
            products.setdefault(alias, names[0])
    return Vocabulary(colors=colors, sizes=sizes, categories=categories, products=products)
