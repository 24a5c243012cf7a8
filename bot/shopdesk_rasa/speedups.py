"""Rasa's slowest step per message, made cheap without changing what it does.

Rasa 3.6 checks every action server response with `jsonschema.validate`, which first checks
the response schema itself against JSON Schema's metaschema, on every call: half of Rasa's CPU
per message in our profile (docs/performance.md). Here the schema is checked once and its
validator kept; responses are validated exactly as before, with the same error on a bad one.
Installed when Rasa loads the shopper channel (shopdesk_rasa/channels.py).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError, validators
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def action_response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)  # once, not per response
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with the validator built once."""
    error = best_match(action_response_validator().iter_errors(result))
    if error is None:
        return True
    if isinstance(error, ValidationError):
        error.message += (
            ". Failed to validate Action server response from API, make sure your response "
            "from the Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
    raise error


def install() -> None:
    """Idempotent: Rasa may import the channel module more than once."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
