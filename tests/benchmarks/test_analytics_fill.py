"""benchmarks/analytics_fill.py: the fixture's sessions become the templates, and the query
counter gives each search that found nothing a new text."""

from benchmarks.analytics_fill import letters, load_templates, rasa_sessions


def test_the_fixture_sessions_are_the_templates() -> None:
    templates = load_templates()
    conversations = [t for t in templates if t.conversation]
    assert len(conversations) == 9  # the fixture's nine conversations (ann has two)
    assert [t.name for t in templates if not t.conversation] == ["shopper-gus#1"]
    by_name = {t.name: t for t in templates}
    assert len(by_name["shopper-ann#2"].zero_result_users) == 2  # yoga pants, then blue
    assert by_name["shopper-cat#1"].handoff is not None
    assert by_name["shopper-cat#1"].handoff.status == "handed_back"
    assert by_name["shopper-dan#1"].handoff is not None
    assert by_name["shopper-dan#1"].handoff.status == "timed_out"
    assert rasa_sessions([]) == []


def test_the_query_counter_is_letters_and_never_repeats() -> None:
    words = [letters(n) for n in range(20_000)]
    assert len(set(words)) == len(words)
    assert words[:2] == ["aaa", "aab"]
    assert all(word.isalpha() for word in words)
