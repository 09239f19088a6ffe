"""The command line: help, readable one-line errors, the official-checkpoint job."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from pushpull_viz.cli import main


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "official" in capsys.readouterr().out


def test_models_command(capsys):
    assert main(["models"]) == 0
    assert "resnet20" in capsys.readouterr().out


def test_error_is_one_line_without_traceback(monkeypatch, tmp_path):
    monkeypatch.delenv("PUSHPULL_DATA", raising=False)
    result = subprocess.run([sys.executable, "-m", "pushpull_viz.cli", "official", "--checkpoints", str(tmp_path)],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "model_best.pth.tar" in result.stderr


def test_official_job_writes_table(official_checkpoints, data_root, tmp_path, capsys):
    code = main(["official", "--checkpoints", str(official_checkpoints), "--data-root", str(data_root),
                 "--per-class", "5", "--out", str(tmp_path)])
    assert code == 0
    rows = list(csv.DictReader(open(tmp_path / "official_checkpoints.csv")))
    assert {r["checkpoint"] for r in rows} == {"resnet-20", "resnet-20-pp", "densenet-40-12", "densenet-40-12-pp"}
    assert all(r["dataset"] == "CIFAR-10 (JPEG-75 copy)" and r["n_images"] == "50" for r in rows)
