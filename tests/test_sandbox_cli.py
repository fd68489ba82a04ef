"""`python -m sandbox serve` prints a config that works, and `make demo` prints only its table.

The sandbox CLI's defaults are the `sandbox` environment of meltano.yml, so the README's
commands work as printed: the printed config runs the tap, a taken port is one line.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import shlex
import socket
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from sandbox.__main__ import CLI_DEFAULTS, VENDORS, build_parser
from tests.helpers import ROOT

BIN = Path(sys.executable).parent


def serve_lines(*args: str, count: int) -> tuple[subprocess.Popen[str], list[str]]:
    """Start ``python -m sandbox serve ARGS``; its first ``count`` lines of stdout."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, [process.stdout.readline().rstrip("\n") for _ in range(count)]


def test_printed_config_runs_the_tap(tmp_path: Path):
    process, lines = serve_lines("cast", "--port", "0", "--campaigns", "1", count=6)
    try:
        assert lines[0].startswith("cast sandbox listening on http://127.0.0.1:"), lines
        config = json.loads(lines[2])
        assert config["base_url"] == lines[0].rsplit(" ", 1)[-1]
        # The export line says the same, setting by setting, as Meltano reads it.
        exported = dict(word.split("=", 1) for word in shlex.split(lines[4])[1:])
        assert exported == {
            f"TAP_CAST_{key.upper()}": value if isinstance(value, str) else json.dumps(value)
            for key, value in config.items()
        }
        config_file = tmp_path / "config.json"
        config_file.write_text(lines[2])
        result = subprocess.run(
            [str(BIN / "tap-cast"), "--config", str(config_file)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert result.returncode == 0, result.stderr[-3000:]
    records = [json.loads(line) for line in result.stdout.splitlines() if '"RECORD"' in line]
    assert {record["stream"] for record in records} >= {"campaigns", "analytics_events"}


def test_a_client_that_hangs_up_leaves_no_traceback():
    """A client that resets a kept-alive connection (as `meltano config test` does once it
    has its first record) is routine: the sandbox's terminal shows no traceback."""
    process, lines = serve_lines("cast", "--port", "0", "--campaigns", "1", count=1)
    port = int(lines[0].rsplit(":", 1)[1])
    try:
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(b"GET /no-such-path HTTP/1.1\r\nHost: sandbox\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 ")
            # Close with a reset (linger 0) while the server waits for the next request.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        probe = subprocess.run(  # one more request: the server is still answering
            [sys.executable, "-c", f"import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/x')"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert "HTTP Error" in probe.stderr
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "Traceback" not in stderr, stderr


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_cli_defaults_are_the_sandbox_environment(vendor: str):
    """`python -m sandbox serve <vendor>` with no options answers `--environment=sandbox`."""
    meltano = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (environment,) = [env for env in meltano["environments"] if env["name"] == "sandbox"]
    tap = VENDORS[vendor].tap
    (settings,) = [
        plugin["config"]
        for plugin in environment["config"]["plugins"]["extractors"]
        if plugin["name"] == tap
    ]
    args = build_parser().parse_args(["serve", vendor])
    assert settings["base_url"] == f"http://127.0.0.1:{args.port}"
    assert args.port == CLI_DEFAULTS[vendor]["port"]
    printed = VENDORS[vendor].config(VENDORS[vendor].app(args))
    # The environment may start earlier than the first webcast; it must not start later.
    if "start_date" in printed:
        assert settings.pop("start_date") <= printed.pop("start_date")
    assert {key: settings[key] for key in printed} == printed
    # Every setting that decides which rows are read is printed (page_size changes none).
    assert set(printed) == set(settings) - {"base_url", "page_size"}
    # The ground truth is of the same dataset.
    truth_args = build_parser().parse_args(["truth", vendor])
    assert {key: getattr(truth_args, key) for key in CLI_DEFAULTS[vendor] if key != "port"} == {
        key: value for key, value in CLI_DEFAULTS[vendor].items() if key != "port"
    }


def test_taken_port_is_one_line_and_exit_1():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "sandbox", "serve", "cast", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert f"cannot listen on 127.0.0.1:{port}: the port is taken" in line
    assert "--port" in line


def load_demo() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo", ROOT / "scripts" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e
def test_demo_prints_the_table_and_where_the_log_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
):
    demo = load_demo()
    (cast,) = [entry for entry in demo.DEMOS if entry.tap == "tap-cast"]
    monkeypatch.setattr(demo, "DEMOS", [cast])
    monkeypatch.setattr(demo, "WAREHOUSE", tmp_path / "sandbox.duckdb")
    monkeypatch.setattr(demo, "LOG", tmp_path / "demo.log")
    monkeypatch.setattr(demo, "MODEL", False)  # the model is built over all three vendors
    monkeypatch.setenv("MELTANO_STATE_BACKEND_URI", f"file://{tmp_path}/state")

    with socket.socket() as taken:  # the environment's port is busy: the demo still runs
        with contextlib.suppress(OSError):  # already taken by another process: as good
            taken.bind(("127.0.0.1", CLI_DEFAULTS["cast"]["port"]))
            taken.listen()
        assert demo.main() == 0

    captured = capfd.readouterr()  # file descriptors: a subprocess writing there counts
    assert captured.err == ""
    lines = captured.out.splitlines()
    assert lines[0] == (
        f"Running each tap into {tmp_path / 'sandbox.duckdb'}; "
        f"Meltano's log: {tmp_path / 'demo.log'}"
    )
    assert lines[1].split() == ["table", "rows", "sandbox", "truth"]
    rows = [line.split() for line in lines[2:]]
    assert [row[0] for row in rows] == [
        f"tap_cast.{table}"
        for table in sorted(
            [
                "analytics_events",
                "campaign_analytics",
                "campaign_timeline",
                "campaigns",
                "cross_campaign_summary",
            ]
        )
    ]
    assert all(row[1] == row[2] != "0" for row in rows), rows
    log = (tmp_path / "demo.log").read_text()
    assert "meltano --environment=sandbox run tap-cast target-duckdb" in log
    assert "analytics_events" in log  # the tap's progress lines are kept in the log
