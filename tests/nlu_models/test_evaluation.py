import json

import pytest

from nlu_models.evaluation import evaluate


def test_scores_on_a_known_set(tmp_path) -> None:
    gold = ["a", "a", "a", "b", "b", "oos", "oos"]
    predicted = ["a", "a", "b", "b", "b", "oos", "a"]
    report = evaluate(gold, predicted, "oos")
    assert report.accuracy == round(5 / 7, 4)
    assert report.per_label["a"].precision == round(2 / 3, 4)
    assert report.per_label["a"].recall == round(2 / 3, 4)
    assert report.per_label["b"].precision == round(2 / 3, 4)
    assert report.per_label["b"].recall == 1.0
    assert report.in_scope_accuracy == 0.8
    assert report.oos_recall == 0.5
    assert report.confused_pairs[0][2] == 1 and ("a", "b", 1) in report.confused_pairs
    f1 = [report.per_label[label].f1 for label in ("a", "b", "oos")]
    assert report.macro_f1 == pytest.approx(sum(f1) / 3, abs=1e-4)

    json_path, md_path = report.write(tmp_path, "known set")
    assert json.loads(json_path.read_text())["oos_recall"] == 0.5
    markdown = md_path.read_text()
    assert "| out-of-scope recall | 50.00% |" in markdown
    assert "| a | b | 1 |" in markdown


def test_without_out_of_scope_those_scores_are_absent() -> None:
    report = evaluate(["a", "b"], ["a", "b"])
    assert report.accuracy == 1.0 and report.in_scope_accuracy is None
    assert "out-of-scope" not in report.to_markdown("t")


def test_mismatched_or_empty_input_is_refused() -> None:
    with pytest.raises(ValueError):
        evaluate(["a"], [])
    with pytest.raises(ValueError):
        evaluate([], [])
