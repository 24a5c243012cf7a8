"""benchmarks/load_processes.py: the CPU/memory arithmetic over samples and the busiest other
processes. No sampler thread runs."""

from benchmarks.load_processes import Sample, other_processes, usage


def _sample(at: float, cpu: float, rss: float, busy: float = 0.0) -> Sample:
    return Sample(at, {"rasa": cpu}, {"rasa": rss}, busy)


def test_cpu_is_averaged_over_the_samples_that_bracket_the_window() -> None:
    samples = [
        _sample(100.0, 1.0, 200.0, 10.0),
        _sample(101.0, 1.5, 250.0, 11.0),
        _sample(103.0, 4.5, 400.0, 14.0),
        _sample(105.0, 7.5, 300.0, 17.0),
        _sample(106.0, 7.6, 900.0, 17.1),  # after the window: not in the peak
    ]
    measured = usage(samples, start=101.2, end=104.5)
    # from the sample at 101 s to the one at 105 s: 6 CPU seconds in 4 s
    assert measured["processes"]["rasa"] == {"cpu_cores": 1.5, "peak_rss_mib": 400.0}
    assert measured["machine_busy_cores"] == 1.5
    assert measured["span_s"] == 4.0


def test_usage_without_samples_or_time_between_them() -> None:
    assert usage([], 0.0, 1.0)["processes"] == {}
    single = usage([_sample(5.0, 1.0, 10.0)], 0.0, 10.0)
    assert single["processes"]["rasa"]["cpu_cores"] is None


def test_other_busy_processes_leave_out_ours_and_idle_ones() -> None:
    before = {(1, 1.0): ("rasa", 10.0), (2, 1.0): ("pytest", 5.0), (3, 1.0): ("sshd", 1.0)}
    after = {
        (1, 1.0): ("rasa", 30.0),
        (2, 1.0): ("pytest", 15.0),
        (3, 1.0): ("sshd", 1.1),
        (4, 9.0): ("make", 4.0),  # started during the level
    }
    busy = other_processes(before, after, seconds=10.0, ours={(1, 1.0)})
    assert busy == [
        {"name": "pytest", "pid": 2, "cpu_cores": 1.0},
        {"name": "make", "pid": 4, "cpu_cores": 0.4},
    ]
    assert other_processes(before, after, seconds=0.0, ours=set()) == []
