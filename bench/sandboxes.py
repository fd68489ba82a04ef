"""The one way the benchmarks start a sandbox: its own process, on a free port."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def sandbox(args: str) -> t.Iterator[str]:
    """``python -m sandbox serve ARGS --port 0`` as its own process; yields its base URL."""
    command = [sys.executable, "-m", "sandbox", "serve", *args.split(), "--port", "0"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    try:
        line = process.stdout.readline().strip()
        if "listening on http" not in line:
            raise SystemExit(f"the sandbox did not start ({args}): {line!r}")
        yield line.rsplit(" ", 1)[-1]
    finally:
        process.terminate()
        process.wait(timeout=10)
