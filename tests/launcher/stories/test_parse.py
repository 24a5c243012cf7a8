"""launcher.stories.parse: reading Rasa 3 test stories (no stack needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from launcher.stories.cli import main
from launcher.stories.parse import (
    ExpectedEntity,
    Step,
    Story,
    StoryFormatError,
    load_stories,
    parse_stories,
    strip_annotations,
)

FULL = """
version: "3.1"
stories:
  - story: an order question
    steps:
      - user: where is my order [000000002](order_number)?
        intent: track_order
      - slot_was_set:
          - order_number: "000000002"
      - action: track_order_form
      - active_loop: track_order_form
      - slot_was_set:
          - requested_slot
      - bot: "What is the e-mail address on the order?"
      - user: roni_cost@example.com
        intent: inform
        entities:
          - email: roni_cost@example.com
      - action: track_order_form
      - active_loop: null
      - action: action_order_status
"""


def only(text: str) -> Story:
    [story] = parse_stories(text, "stories.yml")
    return story


def one_story(*steps: str) -> str:
    body = "\n".join(f"      {line}" for step in steps for line in step.splitlines())
    return f"stories:\n  - story: s\n    steps:\n{body}\n"


def test_every_step_kind_is_read_in_order_with_its_step_number() -> None:
    story = only(FULL)
    assert story.name == "an order question" and story.file == "stories.yml"
    assert [(s.number, s.kind) for s in story.steps] == [
        (1, "user"),
        (2, "slot"),
        (3, "action"),
        (4, "active_loop"),
        (5, "slot"),
        (6, "bot"),
        (7, "user"),
        (8, "action"),
        (9, "active_loop"),
        (10, "action"),
    ]
    first = story.steps[0]
    assert first.text == "where is my order 000000002?"
    assert first.intent == "track_order"
    assert first.entities == (ExpectedEntity("order_number", "000000002"),)
    assert story.steps[1] == Step(2, "slot", name="order_number", value="000000002", has_value=True)
    assert story.steps[4] == Step(5, "slot", name="requested_slot")  # any value
    assert story.steps[3].name == "track_order_form"
    assert story.steps[8].name is None  # null: the loop was deactivated
    assert story.steps[5].text == "What is the e-mail address on the order?"
    assert story.steps[6].entities == (ExpectedEntity("email", "roni_cost@example.com"),)


def test_turns_cut_the_story_at_each_user_step() -> None:
    turns = only(FULL).turns()
    assert [t.user.number for t in turns] == [1, 7]
    assert [s.number for s in turns[0].steps] == [2, 3, 4, 5, 6]
    assert [s.number for s in turns[1].steps] == [8, 9, 10]


@pytest.mark.parametrize(
    ("annotated", "plain", "entities"),
    [
        ("a [black](color) hoodie", "a black hoodie", [ExpectedEntity("color", "black")]),
        ("a [black](color:Black) one", "a black one", [ExpectedEntity("color", "Black")]),
        (
            'from [LA]{"entity": "city", "value": "Los Angeles", "role": "from"}',
            "from LA",
            [ExpectedEntity("city", "Los Angeles", role="from")],
        ),
        (
            'under [60][{"entity": "price_max"}, {"entity": "amount", "value": 60}]',
            "under 60",
            [ExpectedEntity("price_max", "60"), ExpectedEntity("amount", 60)],
        ),
        ("no [brackets] here", "no [brackets] here", []),
    ],
)
def test_annotations_are_stripped_from_the_text_and_kept_as_entities(
    annotated: str, plain: str, entities: list[ExpectedEntity]
) -> None:
    assert strip_annotations(annotated) == (plain, entities)


def test_a_step_with_only_an_intent_sends_rasas_slash_syntax() -> None:
    story = only(
        one_story(
            "- intent: greet",
            "- action: utter_greet",
            "- intent: /track_order\n  entities:\n    - order_number: '000000001'\n    - email",
        )
    )
    assert story.steps[0].text == "/greet"
    assert story.steps[2].intent == "track_order"
    assert story.steps[2].text == '/track_order{"order_number": "000000001"}'
    assert story.steps[2].entities == (
        ExpectedEntity("order_number", "000000001"),
        ExpectedEntity("email"),
    )


def test_entities_listed_next_to_annotated_text_are_both_expected() -> None:
    story = only(one_story("- user: a [red](color) one\n  intent: x\n  entities:\n    - size: M"))
    assert story.steps[0].entities == (ExpectedEntity("color", "red"), ExpectedEntity("size", "M"))


def test_slot_values_keep_their_yaml_types() -> None:
    story = only(
        one_story(
            "- user: hi\n  intent: greet",
            "- slot_was_set:\n    - shown_products: [MH01, MH02]\n    - verified: true\n"
            "    - focused_product: null",
        )
    )
    assert [(s.name, s.value, s.has_value) for s in story.steps[1:]] == [
        ("shown_products", ["MH01", "MH02"], True),
        ("verified", True, True),
        ("focused_product", None, True),
    ]
    assert {s.number for s in story.steps[1:]} == {2}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stories: [\n", "stories.yml: not readable YAML (line 2)"),
        ("- just a list", "stories.yml: expected a 'stories:' list"),
        ("rules: []\nstories: []", "unsupported top-level key(s) 'rules'"),
        ("stories:\n  - steps: []", "story #1 needs a 'story: <name>' key"),
        ("stories:\n  - story: s\n    steps: []", "story 's': 'steps:' must be a non-empty list"),
        (one_story("- user: hi\n  intent: greet", "- acton: utter_greet"),
         "stories.yml: story 's', step 2: unknown step key(s) 'acton'"),
        (one_story("- user: hi\n  intent: greet\n  intnt: x"),
         "step 1: unknown key(s) 'intnt' in a user step"),
        (one_story("- user: hi\n  intent: greet", "- checkpoint: c1"),
         "checkpoints and OR steps are not supported"),
        (one_story("- user: hi\n  intent: greet", "- action: a\n  bot: b"), "unknown step key(s)"),
        (one_story("- action: utter_greet"), "story 's': must start with a user step"),
        (one_story('- user: \'[x]{"value": 1}\'\n  intent: i'), 'needs "entity": "<type>"'),
        (one_story("- user: '[x]{nope}'\n  intent: i"), "is not valid JSON"),
        (one_story("- user: hi\n  intent: greet", "- slot_was_set: order_number"),
         "'slot_was_set' must be a list"),
        (one_story("- user: hi\n  intent: greet", "- action: ''"), "'action' must name an action"),
        (one_story("- user: ''\n  intent: greet"), "'user' must be the shopper's message text"),
        ("stories:\n  - story: s\n    stepz: []", "unknown key(s) 'stepz'"),
    ],
)  # fmt: skip
def test_bad_input_names_the_file_story_and_step(text: str, message: str) -> None:
    with pytest.raises(StoryFormatError) as caught:
        parse_stories(text, "stories.yml")
    assert message in str(caught.value)


def test_a_story_may_begin_with_the_session_start_rasa_logs() -> None:
    story = only(one_story("- action: action_session_start", "- user: hi\n  intent: greet"))
    assert story.turns()[0].user.text == "hi"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folders_are_searched_for_yml_files_and_stories_chosen_by_name(tmp_path: Path) -> None:
    write(tmp_path / "a.yml", one_story("- user: hi\n  intent: greet"))
    write(tmp_path / "sub" / "b.yaml", one_story("- user: bye\n  intent: goodbye").replace(
        "story: s", "story: t"))  # fmt: skip
    write(tmp_path / "notes.txt", "not a story")
    assert [s.name for s in load_stories([tmp_path])] == ["s", "t"]
    assert [s.name for s in load_stories([tmp_path], ["t"])] == ["t"]
    with pytest.raises(StoryFormatError, match="no story named 'u'"):
        load_stories([tmp_path], ["u"])
    with pytest.raises(StoryFormatError, match="no such file or folder"):
        load_stories([tmp_path / "missing.yml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(StoryFormatError, match="no story files"):
        load_stories([tmp_path / "empty"])


def test_the_command_exits_2_with_a_clear_message_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "bad.yml", one_story("- user: hi\n  intent: greet", "- bott: hi"))
    assert main([str(path), "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "bad.yml: story 's', step 2: unknown step key(s) 'bott'" in err
    assert "Traceback" not in err
