"""A bounded fuzz run against the running stack, over loopback: every HTTP route of the web
server (anonymous, and as a signed-in admin past the sign-in check) and Rasa's REST channel
(raw `/intent{...}` syntax, Rasa's commands, huge and unicode texts, bodies that are not JSON).

benchmarks/fuzz.py generates the requests (hypothesis, a fixed seed here so a failure can be
replayed) and reads the web server's route table, so a new route is fuzzed with no change
here. `python -m benchmarks.fuzz` runs the same targets bigger and writes the counts to
benchmarks/results/fuzz.md. tests/web/test_fuzz.py fuzzes the console API in process.
"""

from __future__ import annotations

import pytest

from benchmarks.fuzz import run_all, statuses_text, unhealthy
from launcher.stack import Stack
from tests.security.conftest import ADMIN

CASES_PER_TARGET = 300
BUDGET_PER_TARGET_S = 40.0  # keeps the run to about two minutes on two cores
SEED = 17


@pytest.mark.e2e
def test_fuzzed_requests_to_every_route_and_the_rest_channel_get_no_5xx_and_crash_nothing(
    live: Stack,
) -> None:
    reports = run_all(live, (ADMIN[0], ADMIN[2]), CASES_PER_TARGET, BUDGET_PER_TARGET_S, SEED)
    for report in reports:  # shown with -s, and in the assertion message when one fails
        print(
            f"fuzz {report.name}: {report.cases} cases in {report.seconds:g} s; "
            f"{statuses_text(report.statuses)}"
        )
    summary = {r.name: (r.cases, dict(r.statuses), r.failures) for r in reports}
    assert all(r.cases > 0 for r in reports), summary
    assert not any(r.failed for r in reports), summary
    assert not unhealthy(live), f"down after the fuzz: {unhealthy(live)}"
