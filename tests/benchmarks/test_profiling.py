"""benchmarks.profiling: py-spy's samples summed per function, and a real recording of a busy
process (py-spy is a dev dependency; CI runs as root, so ptrace is allowed)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.profiling import Profiler, frame_name, markdown, py_spy, top_functions
from tests.conftest import skip_or_fail

RAW = [
    'process 7:"rasa run --auth-token=s3cret";<module> (rasa:8) 0',
    "<module> (rasa:8);main (rasa/__main__.py:12);handle (rasa/core/agent.py:40) 30",
    "<module> (rasa:8);main (rasa/__main__.py:12);handle (rasa/core/agent.py:41);"
    "validate (jsonschema/validators.py:300) 60",
    "_bootstrap (threading.py:995);run (threading.py:975);wait (queue.py:10) 10",
    "garbage line without samples",
]


def test_samples_are_summed_per_function_across_lines() -> None:
    top = dict((name, share) for share, name in top_functions(RAW))
    assert top["<module> (rasa)"] == 90.0
    assert top["handle (agent.py)"] == 90.0  # two lines of one function merged
    assert top["validate (validators.py)"] == 60.0
    assert top["wait (queue.py)"] == 10.0
    assert not any("threading.py" in name for name in top)  # plumbing left out
    assert not any("s3cret" in name for name in top)  # command lines (tokens) left out
    assert top_functions([]) == []


def test_frame_names_drop_the_folder_and_line() -> None:
    assert frame_name("parse (nlu_models/service.py:97)") == "parse (service.py)"
    assert frame_name("<module>") == "<module>"


def test_the_report_says_why_a_process_was_not_profiled() -> None:
    text = markdown(
        {"rasa": [(50.0, "validate (validators.py)")], "web": "permission denied"}, "at 5 users"
    )
    assert text.startswith("## Where the time goes at 5 users (py-spy)")
    assert "- 50.0 % validate (validators.py)" in text
    assert "not profiled: permission denied" in text


def test_a_busy_process_is_profiled_for_real(tmp_path: Path) -> None:
    if py_spy() is None:
        skip_or_fail("py-spy is not installed")
    busy = subprocess.Popen(
        [sys.executable, "-c", "def spin():\n    while True: sum(range(1000))\nspin()"]
    )
    try:
        time.sleep(0.5)
        profiler = Profiler({"busy": busy.pid}, seconds=2, folder=tmp_path)
        assert profiler.start() is None
        [(name, profile)] = profiler.finish().items()
    finally:
        busy.kill()
        busy.wait()
    if isinstance(profile, str) and "ermission" in profile:
        skip_or_fail(f"py-spy may not read other processes here: {profile}")
    assert name == "busy" and not isinstance(profile, str)
    assert any("spin" in function and share > 50 for share, function in profile), profile


@pytest.mark.parametrize("pid", [2**22 + 12345])
def test_a_process_that_is_gone_is_reported_not_raised(pid: int, tmp_path: Path) -> None:
    if py_spy() is None:
        skip_or_fail("py-spy is not installed")
    profiler = Profiler({"gone": pid}, seconds=1, folder=tmp_path)
    assert profiler.start() is None
    assert isinstance(profiler.finish()["gone"], str)
