"""Custom actions served by rasa_sdk (`python -m rasa_sdk --actions actions`).

One module per conversation area; each stays thin: it calls the catalog and builds replies.
"""

from actions.orders import ActionOrderStatus
from actions.products import ActionSearchProducts

__all__ = ["ActionOrderStatus", "ActionSearchProducts"]
