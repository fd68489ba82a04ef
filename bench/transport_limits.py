"""How long a trickling server holds a request, and the memory a gzip "bomb" takes.

1. A server sends its answer one byte at a time, each byte well within any per-read timeout:
   a 16-byte body with Content-Length, the same body as one chunk, one byte a second; or the
   whole answer, status line and headers too, one byte every 0.2 s. Measured: how long
   ``tap_common.http``'s session holds a request whose ``timeout`` is ``--timeout`` seconds,
   as a ratio of that timeout (1.0x: the deadline holds).
2. A server answers a 1 MB gzip body that expands to ``--bomb-mib`` MiB of valid JSON (an
   envelope, then spaces). Measured: peak RSS of a process making that one request, against
   the same process making a request with a small body.

    .venv/bin/python bench/transport_limits.py [--timeout 2] [--bomb-mib 1024]

Fails when a request is held past 1.5x its timeout or the bomb takes more memory above the
small request than the bound on a body (``MAX_BODY_BYTES``) plus 64 MB.
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tap_common.http import MAX_BODY_BYTES, new_session  # noqa: E402

BODY = b'{"results": [1]}'  # 16 bytes
HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"


def serve(answer: bytes | None, slow: tuple[bytes, float] | None) -> int:
    """A server on a free port that sends ``answer`` at once, then ``slow`` bytes one at a
    time, ``seconds`` apart, to every connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)

    def reply(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(answer or b"")
            if slow is not None:
                data, seconds = slow
                for byte in data:
                    time.sleep(seconds)
                    conn.sendall(bytes([byte]))
        except OSError:
            pass
        finally:
            conn.close()

    def accept() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=reply, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1]


def held(port: int, timeout: float) -> tuple[float, str]:
    started = time.monotonic()
    try:
        new_session().get(f"http://127.0.0.1:{port}/", timeout=timeout)
        outcome = "read-whole"
    except Exception as exc:  # what the session raised is the outcome
        outcome = type(exc).__name__
    return time.monotonic() - started, outcome


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(b'{"count": 0, "results": []}')]
    block = b" " * (1 << 20)
    for _ in range(size >> 20):
        parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    return b"".join(parts)


def child(kind: str, bomb_mib: int) -> None:
    """One request in this process; prints peak RSS in MB and the outcome."""
    body = gzip_bomb(bomb_mib << 20) if kind == "bomb" else BODY
    encoding = b"Content-Encoding: gzip\r\n" if kind == "bomb" else b""
    answer = HEAD + encoding + b"Content-Length: %d\r\n\r\n" % len(body) + body
    port = serve(answer, None)
    _, outcome = held(port, 60)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, outcome, len(body))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=2.0)
    parser.add_argument("--bomb-mib", type=int, default=1024)
    parser.add_argument("--child", choices=["bomb", "small"])
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bomb_mib)
        return
    failed = False
    print("| server sends | held | x timeout | outcome |\n|---|---:|---:|---|")
    shapes = {
        "16-byte body with Content-Length, 1 byte/s": (
            HEAD + b"Content-Length: 16\r\n\r\n",
            (BODY, 1.0),
        ),
        "16-byte body as one chunk, 1 byte/s": (
            HEAD + b"Transfer-Encoding: chunked\r\n\r\n10\r\n",
            (BODY + b"\r\n0\r\n\r\n", 1.0),
        ),
        "status line and headers, 1 byte / 0.2 s": (
            None,
            (HEAD + b"Content-Length: 16\r\n\r\n" + BODY, 0.2),
        ),
    }
    for name, (answer, slow) in shapes.items():
        seconds, outcome = held(serve(answer, slow), args.timeout)
        ratio = seconds / args.timeout
        failed |= ratio > 1.5
        print(f"| {name} | {seconds:.1f} s | {ratio:.2f}x | {outcome} |")
    peaks = {}
    for kind in ("small", "bomb"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--bomb-mib", str(args.bomb_mib)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        peaks[kind] = int(out[0])
        print(f"{kind}: peak RSS {out[0]} MB, {out[1]}, {int(out[2]):,} bytes on the wire")
    extra = peaks["bomb"] - peaks["small"]
    print(f"gzip body expanding to {args.bomb_mib} MiB: {extra} MB above a small request")
    failed |= extra > (MAX_BODY_BYTES >> 20) + 64
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
