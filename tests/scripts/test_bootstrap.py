"""scripts/bootstrap says clearly which Python is missing (run with a PATH that has none)."""

import shutil
import subprocess
import sys
from pathlib import Path

TOOLS = ["bash", "dirname", "sed", "cat", "sha256sum", "cut", "grep"]


def run_without_pythons(project_root: Path, tmp_path: Path, **env: str):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return subprocess.run(
        ["bash", str(project_root / "scripts" / "bootstrap")],
        env={"PATH": str(bin_dir), "HOME": str(tmp_path), **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_names_both_missing_pythons(project_root: Path, tmp_path: Path) -> None:
    result = run_without_pythons(project_root, tmp_path)
    assert result.returncode == 1
    assert "cannot find: python3.11" in result.stderr
    assert "python3.10 (Rasa 3.6.21 needs Python < 3.11)" in result.stderr


def test_a_wrong_version_in_the_override_is_not_taken(project_root: Path, tmp_path: Path) -> None:
    result = run_without_pythons(project_root, tmp_path, SHOPDESK_PYTHON310=sys.executable)
    assert result.returncode == 1
    assert "python3.10" in result.stderr
