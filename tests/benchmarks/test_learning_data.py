"""benchmarks/learning_data.py: the split of the unseen Bitext utterances into a corrections
pool and a stratified unseen test set."""

from benchmarks.learning_data import split_pool
from nlu_models.data import Example


def test_the_test_set_is_stratified_exact_and_disjoint() -> None:
    examples = [Example(f"{label} {n}", label) for label in "abc" for n in range(10 + ord(label))]
    pool, test = split_pool(examples, 10, seed=3)
    assert len(test) == 10 and len(pool) == len(examples) - 10
    assert not {e.text for e in pool} & {e.text for e in test}
    assert sorted({e.label for e in test}) == ["a", "b", "c"]
    assert split_pool(examples, 10, seed=3) == (pool, test)  # the seed fixes it
