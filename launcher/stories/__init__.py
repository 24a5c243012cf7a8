"""`python -m launcher stories`: play Rasa test stories against the live stack and compare.

A test story (Rasa 3 YAML, https://rasa.com/docs/rasa/testing-your-assistant) is sent to a
running ShopDesk one `user:` step at a time over the REST channel; after each message the
conversation's events are read from Rasa's HTTP API and compared with the story: the intent
(and entities), the actions that ran, the slots they set, loop changes and the bot's replies.
Unlike `rasa test`, this runs the real action server, classifier and catalog.

Modules, each usable on its own (the unit tests use the first two without a stack):
  parse       `parse_stories` / `load_stories`: YAML → `Story` (annotations stripped from the
              text that is sent, kept as expected entities)
  compare     `compare_turn`: one turn's expectations against the tracker events Rasa logged
  play        `RasaClient`, `play_story`, `target`: a fresh sender per story, message by
              message, against a running Rasa or a fresh stack
  rasa_test   `--rasa-test`: Rasa's own `rasa test core --e2e` on the same stories
  cli         `main` / `run`: files, target, progress, summary, JSON report

This file only documents the package; import from the modules.
"""
