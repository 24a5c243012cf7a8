"""`--rasa-test`: Rasa's own `rasa test core --e2e` on the same stories, beside the replay.

It checks what Rasa's policies predict (no action server), so it can disagree with the replay;
its verdict is printed and reported but does not change the command's exit status.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import yaml

from core.paths import PROJECT_ROOT
from launcher.stack import PRIVATE_UMASK, StackConfig, http_ok
from launcher.stories.compare import JSON
from launcher.stories.parse import Story, display

ROOT = PROJECT_ROOT
# Where the stories are copied and Rasa's results go (read at call time: tests move it).
DEFAULT_RASA_TEST_DIR = PROJECT_ROOT / "var" / "rasa-test"

# The lines of Rasa's log that hold its verdict (rasa/core/test.py `_log_evaluation_table`).
SUMMARY_LINE = re.compile(
    r"rasa\.core\.test\s+-\s+(Evaluating \d+ stories|Evaluation Results on|\s*(Correct|Accuracy"
    r"|F1-Score|Precision|In-data fraction):)"
)


def report_rasa_test(stories: Sequence[Story], config: StackConfig, filtered: bool) -> JSON:
    """Run `rasa test core --e2e` on the stories and print its verdict; its result for the
    report. Skipped (and said so) when the classifier of `config` does not answer."""
    print("==> rasa test core --e2e on the same stories", flush=True)
    nlu_url = config.env()["SHOPDESK_NLU_URL"].rstrip("/")
    if not http_ok(f"{nlu_url}/health"):
        print(
            f"    skipped: the classifier at {nlu_url} is not healthy (set SHOPDESK_NLU_URL to "
            "the running one); Rasa would read every message as classifier_unavailable",
            flush=True,
        )
        return {"skipped": f"classifier at {nlu_url} not healthy"}
    result = run_rasa_test(stories, config, filtered)
    for line in result["summary"]:
        print(f"    {line}")
    evaluated = (result.get("conversation_accuracy") or {}).get("total")
    if isinstance(evaluated, int) and evaluated < len(stories):
        print(
            f"    rasa test evaluated {evaluated} of {len(stories)} stories: it keeps one of "
            "stories with the same intents, entity types, actions and featurized slots"
        )
    if result["failed_stories"]:
        print(f"    failed under rasa test: {'; '.join(result['failed_stories'])}")
    if result["exit_code"] != 0:
        print("    rasa test failed; the end of its log:")
        print("\n".join(f"      {line}" for line in result["log_tail"]))
    print(f"    rasa test: exit {result['exit_code']}; files in {result['out_dir']}", flush=True)
    return result


def run_rasa_test(
    stories: Sequence[Story],
    config: StackConfig,
    filtered: bool,
    out_dir: Path | None = None,
) -> JSON:
    """Rasa's own evaluation of the stories (`rasa test core --e2e`, the core half of `rasa
    test`): predictions only, no action server. The classifier at `config.nlu_url` must run.

    Rasa reads conversation tests only from files named test_*.yml, so the stories are copied
    there (or, with --story, only the chosen ones written out).
    """
    out_dir = out_dir or DEFAULT_RASA_TEST_DIR
    story_dir = out_dir / "stories"
    results_dir = out_dir / "results"
    for folder in (story_dir, results_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    files = sorted({s.file for s in stories})
    for index, name in enumerate(files, start=1):
        source = Path(name) if Path(name).is_absolute() else ROOT / name
        target = story_dir / f"test_{index:02d}_{source.stem}.yml"
        if filtered:
            chosen = [dict(s.raw) for s in stories if s.file == name]
            target.write_text(yaml.safe_dump({"version": "3.1", "stories": chosen},
                                             sort_keys=False, allow_unicode=True))  # fmt: skip
        else:
            shutil.copyfile(source, target)
    command = [
        str(config.rasa_venv / "bin" / "rasa"),
        "test",
        "core",
        "--e2e",
        "--stories",
        str(story_dir),
        "--model",
        str(config.rasa_model_dir),
        "--out",
        str(results_dir),
        "--no-plot",
        "--successes",
    ]
    log_path = out_dir / "rasa-test.log"
    with log_path.open("wb") as log:
        completed = subprocess.run(
            command, cwd=ROOT, env=config.env("rasa"), stdout=log, stderr=subprocess.STDOUT,
            umask=PRIVATE_UMASK, check=False,
        )  # fmt: skip
    output = log_path.read_text(errors="replace").splitlines()
    summary = rasa_test_summary(output)
    report_path = results_dir / "story_report.json"
    conversation = None
    if report_path.exists():
        try:
            conversation = json.loads(report_path.read_text()).get("conversation_accuracy")
        except (ValueError, AttributeError):
            conversation = None
    return {
        "command": " ".join(["rasa", *command[1:]]).replace(str(ROOT) + "/", ""),
        "exit_code": completed.returncode,
        "out_dir": display(out_dir),
        "log": display(log_path),
        "summary": summary,
        "conversation_accuracy": conversation,
        "log_tail": output[-15:] if completed.returncode != 0 else [],
        "failed_stories": rasa_test_story_names(results_dir / "failed_test_stories.yml"),
        "passed_stories": rasa_test_story_names(results_dir / "successful_test_stories.yml"),
    }


def rasa_test_summary(log_lines: Iterable[str]) -> list[str]:
    """`2024-… INFO  rasa.core.test  - \tCorrect:   1 / 2` → `Correct: 1 / 2`, for each line
    of Rasa's verdict."""
    return [
        re.sub(r"\s+", " ", line.split(" - ", 1)[1]).strip()
        for line in log_lines
        if SUMMARY_LINE.search(line)
    ]


def rasa_test_story_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return []
    items = document.get("stories") if isinstance(document, dict) else None
    # Rasa appends " (<file>)" to each story's name.
    return [
        re.sub(r" \([^()]*\)$", "", str(s.get("story"))) for s in items or [] if isinstance(s, dict)
    ]
