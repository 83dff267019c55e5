"""`caseflow serve` from the command line: each `--help` example starts and answers, it listens
on this machine only unless told otherwise, and a bad file or a taken port stops it before it
starts, with the reason."""

from __future__ import annotations

import re
import socket
import urllib.request
from pathlib import Path

import pytest
from smallworld import start_serve, stop_serve, write_small
from typer.testing import CliRunner

from sim.cli.app import app
from sim.cli.serve import serve_command

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _examples() -> list[list[str]]:
    return [line.split("Example:", 1)[1].split()[2:] for line in (serve_command.__doc__ or "").splitlines()
            if "Example:" in line]


def _on_a_free_port(words: list[str]) -> list[str]:
    """An example's words with its port (if any) replaced by 0, and 8 runs."""
    out, skip = [], False
    for word in words:
        if skip:
            skip = False
            continue
        if word in ("--port", "-p", "--runs", "-n"):
            skip = True
            continue
        out.append(word)
    return [*out, "--port", "0", "--runs", "8", "--workers", "1"]


def test_each_help_example_starts_and_serves_the_page() -> None:
    examples = _examples()
    assert len(examples) >= 3
    for words in examples:
        process, url = start_serve(*_on_a_free_port(words), cwd=ROOT)
        try:
            assert url.startswith("http://127.0.0.1:")
            with urllib.request.urlopen(url, timeout=30) as page:
                assert page.status == 200 and b"caseflow" in page.read()
        finally:
            code, out, err = stop_serve(process)
        assert code == 0, (words, err[-2000:])
        assert "stopped" in out


def test_an_open_address_is_warned_about(tmp_path: Path) -> None:
    process, url = start_serve(str(write_small(tmp_path)), "--host", "0.0.0.0", "--port", "0", "--runs", "8",
                               cwd=tmp_path)
    code, out, _ = stop_serve(process)
    assert url.startswith("http://0.0.0.0:") and code == 0
    assert "warning: the page listens on 0.0.0.0" in out


def test_a_bad_scenario_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(write_small(tmp_path).read_text(encoding="utf-8").replace("months: 18", "months: -3"),
                   encoding="utf-8")
    result = runner.invoke(app, ["serve", str(bad), "--port", "0"])
    assert result.exit_code == 1
    assert "months" in result.output and "http://" not in result.output
    assert not (tmp_path / "outputs").exists()


def test_a_taken_port_says_so(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(app, ["serve", str(write_small(tmp_path)), "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_no_scenario_and_none_shipped_says_what_to_give(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "give a scenario file" in result.output


def test_the_readme_s_serve_command_starts_and_serves_the_page() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line.split("#")[0].split()[2:] for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S)
                for line in block.splitlines() if line.startswith("caseflow serve")]
    assert commands, "the README shows how to start the page"
    for words in commands:
        process, url = start_serve(*_on_a_free_port(words), cwd=ROOT)
        try:
            with urllib.request.urlopen(url, timeout=30) as page:
                assert page.status == 200
        finally:
            code, _, err = stop_serve(process)
        assert code == 0, err[-2000:]
