"""What every benchmark command's --help must do: exit 0 and explain each option."""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pytest


def assert_help_explains_every_option(
    main: Callable[[list[str]], object],
    parser: Callable[[], argparse.ArgumentParser],
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for action in parser()._actions:
        for option in action.option_strings:
            assert option in shown
        assert action.help, f"{action.dest} has no help"
