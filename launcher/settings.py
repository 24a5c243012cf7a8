"""The launcher's settings: the ports it starts the processes on, the tokens it hands them and
where Rasa keeps its tracker, read once through the one settings mechanism (core.settings)."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BeforeValidator

from core.settings import Section, Text, var

DEFAULT_PORTS: Final = {"rasa": 5005, "actions": 5055, "nlu": 5006, "web": 5080}


def _port(value: object) -> int:
    text = str(value).strip()
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"must be a port number, not {text!r}")
    return int(text)


Port = Annotated[int, BeforeValidator(_port)]


class StackSettings(Section):
    """SHOPDESK_RASA_PORT, _ACTIONS_PORT, _NLU_PORT, _WEB_PORT; SHOPDESK_TRACKER_DB (the SQLite
    file Rasa is given); SHOPDESK_RASA_TOKEN and SHOPDESK_INTERNAL_TOKEN (blank: a random one
    per run, never a constant); SHOPDESK_NLU_URL (a running stack's classifier, for
    `launcher stories --url --rasa-test`)."""

    rasa_port: Port = var("SHOPDESK_RASA_PORT", DEFAULT_PORTS["rasa"])
    actions_port: Port = var("SHOPDESK_ACTIONS_PORT", DEFAULT_PORTS["actions"])
    nlu_port: Port = var("SHOPDESK_NLU_PORT", DEFAULT_PORTS["nlu"])
    web_port: Port = var("SHOPDESK_WEB_PORT", DEFAULT_PORTS["web"])
    tracker_db: Text = var("SHOPDESK_TRACKER_DB", "")
    rasa_token: Text = var("SHOPDESK_RASA_TOKEN", "")
    internal_token: Text = var("SHOPDESK_INTERNAL_TOKEN", "")
    nlu_url: Text = var("SHOPDESK_NLU_URL", "")

    def __repr__(self) -> str:  # the tokens stay out of logs
        return (
            f"StackSettings(ports={self.rasa_port}/{self.actions_port}/{self.nlu_port}/"
            f"{self.web_port}, tracker_db={self.tracker_db!r})"
        )
