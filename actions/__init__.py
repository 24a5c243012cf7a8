"""Custom actions served by rasa_sdk (`python -m rasa_sdk --actions actions`).

One module per conversation area; each stays thin: it calls the catalog and builds replies.
"""

from actions.orders import ActionOrderStatus
from actions.product_details import (
    ActionCheckAvailability,
    ActionCompareProducts,
    ActionProductQuestion,
    ActionProductReviews,
    ActionSelectProduct,
)
from actions.products import ActionRefineSearch, ActionSearchProducts, ActionShowMore
from actions.recommendations import (
    ActionComplementaryProducts,
    ActionRecommendForMe,
    ActionSimilarProducts,
)

__all__ = [
    "ActionCheckAvailability",
    "ActionCompareProducts",
    "ActionComplementaryProducts",
    "ActionOrderStatus",
    "ActionProductQuestion",
    "ActionProductReviews",
    "ActionRecommendForMe",
    "ActionRefineSearch",
    "ActionSearchProducts",
    "ActionSelectProduct",
    "ActionShowMore",
    "ActionSimilarProducts",
]
