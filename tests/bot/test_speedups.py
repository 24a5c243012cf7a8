"""shopdesk_rasa.speedups: Rasa's check of action server responses, with its validator built
once, accepts and refuses exactly what jsonschema.validate does."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction
from shopdesk_rasa import speedups

GOOD = {
    "events": [{"event": "slot", "name": "order_number", "value": "000000101"}],
    "responses": [{"text": "Your order has shipped."}],
}
BAD = [
    {"events": "not a list"},
    {"events": [{"no_event_key": 1}]},
    {"events": [{"event": 5}]},
]


def test_a_good_response_passes() -> None:
    assert speedups.validate_action_result(None, GOOD) is True  # type: ignore[arg-type]


@pytest.mark.parametrize("response", BAD)
def test_a_bad_response_fails_as_it_did_before(response: dict) -> None:
    schema = RemoteAction.action_response_format_spec()
    with pytest.raises(ValidationError) as before:
        validate(response, schema)
    with pytest.raises(ValidationError) as now:
        speedups.validate_action_result(None, response)  # type: ignore[arg-type]
    assert now.value.message.startswith(before.value.message)
    assert "Failed to validate Action server response" in now.value.message


def test_installing_replaces_rasas_method() -> None:
    speedups.install()
    speedups.install()
    assert RemoteAction._validate_action_result is speedups.validate_action_result
