"""The learning benchmark's report: the results as learning.md beside learning.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LISTED = 20  # corrections listed in learning.md


def _cell(value: float | int | None, percent: bool) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if percent else f"{value:,}"


def _change(pair: dict[str, Any], percent: bool) -> str:
    old, new = pair["before"], pair["after"]
    if old is None or new is None:
        return "–"
    return f"{(new - old) * 100:+.1f} pt" if percent else f"{new - old:+,}"


def markdown(result: dict[str, Any]) -> str:
    m, data, fix = result["machine"], result["data"], result["corrections"]
    bitext, scores, training = data["bitext"], result["scores"], result["training"]
    export, decision, settings = result["export"], result["decision"], result["settings"]
    device = m.get("gpu") or f"{m['cpu']}, {m['cores']} cores"
    lines = [
        "# Learning loop: does retraining fix what agents correct, without breaking the rest?",
        "",
        f"Measured {result['measured_at']} on {device}, {m['memory_gib']} GiB, Python "
        f"{m['python']}, torch {m.get('torch')}, with:",
        "",
        f"    {result['command']}",
        "",
        f"The intent data ({data['intent_data']}: {data['own_examples']:,} examples, "
        f"{data['own_intents']} intents) and the current adapter ({data['adapter']}, trained on "
        f"{data['adapter_examples']:,}) were copied into a temporary folder with a temporary "
        "shop database; nothing of the project's was changed. "
        f"Of the {bitext['rows']:,} rows of {data['csv']}, {bitext['candidates']:,} utterances "
        f"of {bitext['intents']} intents are not in the intent data ({bitext['already_in_data']:,}"
        f" row(s) are, {bitext['duplicates']:,} repeat a row, {bitext['ambiguous']:,} have a text "
        "Bitext puts under two intents"
        + (
            f", {sum(bitext['other_intents'].values()):,} are of intents the adapter lacks"
            if bitext["other_intents"]
            else ""
        )
        + f"). With seed {data['seed']} they were split into an unseen test set of "
        f"{data['test']:,} messages ({data['test_intents']} intents, stratified) and a shuffled "
        f"corrections pool of {data['pool']:,}.",
        "",
        f"The current adapter read {fix['pool_read']:,} pool messages "
        f"({fix['pool_read_accuracy_before']:.1%} right) to find {fix['selected']} misread ones "
        f"(--corrections {fix['wanted']}); each became an `nlu_corrections` row as the agent "
        "console stores it (text redacted, made-up conversation). Then "
        "`learning.retrain.retrain` ran on the copy: export, score the current adapter, train "
        f"a candidate ({settings['base_model']}, {settings['quantization']}, at most "
        f"{training['max_epochs']} epochs, batch {settings['batch_size']}), score it.",
        "",
        "| measure | before | after | change |",
        "|---|---|---|---|",
    ]
    rows = (
        (f"validation accuracy ({scores['validation_examples']:,}, fixed split)",
         "validation_accuracy", True),
        ("validation macro-F1", "validation_macro_f1", True),
        (f"accuracy on the corrections ({scores['corrections']:,}, trained on)",
         "corrections_accuracy", True),
        (f"unseen test accuracy ({scores['test_examples']:,})", "test_accuracy", True),
        ("unseen test macro-F1", "test_macro_f1", True),
        (f"unseen test accuracy, corrected intents only "
         f"({scores['test_examples_of_corrected_intents']:,})",
         "test_accuracy_corrected_intents", True),
        ("training examples", "training_examples", False),
    )  # fmt: skip
    for title, name, percent in rows:
        pair = scores[name]
        lines.append(
            f"| {title} | {_cell(pair['before'], percent)} | {_cell(pair['after'], percent)} "
            f"| {_change(pair, percent)} |"
        )
    verdict = "would have promoted" if decision["would_promote"] else "would have kept out"
    lines += [
        "",
        f"Unseen test messages the candidate reads right and the current adapter did not: "
        f"{scores['test_fixed']:,}; read right before and wrong after: {scores['test_broken']:,}.",
        "",
        f"Training: the candidate trained {training['seconds']:.0f} s "
        f"({training['epochs_run']} epoch(s), best {training['best_epoch']}); the whole retrain "
        f"(export, both scorings, training) took {training['retrain_wall_seconds']:.0f} s, the "
        f"benchmark {result['wall_seconds']:.0f} s; peak resident memory "
        f"{result['peak_rss_mib']:.0f} MiB.",
        "",
        f"Export: {export['read']} read, {export['accepted']} accepted, {export['duplicates']} "
        f"duplicates, {export['known']} already known, {export['redacted_again']} redacted again,"
        f" {export['conflicts']} conflict(s) ({export['conflicts_held_back']} held back), "
        f"{export['held_back']} held back, {export['new_intents']} to new intents, "
        f"{export['warnings']} data-check warning(s) about them; check: {export['check']}.",
        "",
        f"`learning retrain --max-drop {decision['max_drop']}` {verdict} the candidate: "
        f"{decision['reason'].replace('--dry-run: ', '')}. Here it was {decision['candidate']}.",
        "",
        "Accuracy on the corrections after the retrain is on messages the candidate trained on: "
        "it shows they were learned. The unseen test set (never corrected, never trained on, "
        "texts the intent data does not have) shows whether that generalises to similar "
        "messages; the fixed validation split, whether the rest still works.",
    ]
    if fix["pairs"]:
        lines += [
            "",
            "## What the agents corrected",
            "",
            "| corrected to | had been read as | messages |",
            "|---|---|---|",
        ]
        lines += [f"| {gold} | {guess} | {count} |" for gold, guess, count in fix["pairs"]]
    still = scores["still_misread_corrections"]
    if still:
        lines += ["", "## Corrections the candidate still misreads", ""]
        lines += ["| text | corrected to | read as |", "|---|---|---|"]
        lines += [
            f"| {text.replace('|', chr(92) + '|')} | {gold} | {guess} |"
            for text, gold, guess in still[:LISTED]
        ]
        if len(still) > LISTED:
            lines.append(f"| ... and {len(still) - LISTED} more | | |")
    if scores["test_confused_pairs_after"]:
        lines += ["", "## Unseen test: the candidate's most confused pairs", ""]
        lines += ["| gold | read as | messages |", "|---|---|---|"]
        lines += [f"| {g} | {p} | {n} |" for g, p, n in scores["test_confused_pairs_after"]]
    if result["notes"]:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in result["notes"]]
    return "\n".join(lines) + "\n"


def save(result: dict[str, Any], out: Path, name: str) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    md, js = out / f"{name}.md", out / f"{name}.json"
    js.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    md.write_text(markdown(result), encoding="utf-8")
    return md, js
