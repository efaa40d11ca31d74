"""P7: a 256 MiB answer raises a hook's peak RSS by at most its body limit plus 8 MiB, sync and async.

How: a loopback server answers ``POST /external/prompts`` with ``200`` and 256 MiB of body, without a
``Content-Length`` (so nothing can be refused before reading), as fast as the client takes it. Each transport
runs in a fresh process of its own (``--transport sync|async``): a first small request warms it up (imports,
connection), then the peak RSS (``ru_maxrss``) is read, the 256 MiB request is made with the default limit
(32 MiB; ``--limit`` to change it) and must fail with ``RaiaResponseTooLargeError``, and the peak is read
again. The figure is the growth of the peak, against the limit plus 8 MiB. Before the body limit the same
answer raised the peak by about twice its size and was retried.

Run: ``.venv-airflow-3.3/bin/python benchmarks/p7_hostile_answer.py [--json PATH] [--limit BYTES]``
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading

from _harness import Figure, Report, parser, peak_rss_mib

MiB = 1024 * 1024
ANSWER = 256 * MiB
SLACK_MIB = 8
_BLOCK = b" " * MiB


def _serve(listener: socket.socket) -> None:
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_answer, args=(connection,), daemon=True).start()


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536) or b"\r\n\r\n"
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    while len(body) < length:
        body += connection.recv(65536) or b" " * length
    return head + body


def _answer(connection: socket.socket) -> None:
    with connection:
        try:
            request = _read_request(connection)
            small = b"warm-up" in request
            if small:
                body = json.dumps({"status": "completed", "totalTokens": 1, "response": "ok", "error": None}).encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                connection.sendall(head.encode() + body)
                return
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
            for _ in range(ANSWER // MiB):
                connection.sendall(_BLOCK)
        except OSError:
            return  # the client stopped reading: what it is meant to do


def measure(transport: str, limit: int) -> float:
    """In this process: warm up, then the peak RSS growth over one 256 MiB answer, in MiB."""
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=_serve, args=(listener,), daemon=True).start()
    os.environ["AIRFLOW_CONN_RAIA_DEFAULT"] = json.dumps(
        {"conn_type": "raia", "password": "bench-key", "host": f"http://127.0.0.1:{listener.getsockname()[1]}/external"}
    )
    from raia_provider._core.retry import RetryPolicy
    from raia_provider.exceptions import RaiaResponseTooLargeError
    from raia_provider.hooks.raia import RaiaHook

    hook = RaiaHook(retry_policy=RetryPolicy(max_attempts=1), max_response_bytes=limit)
    if transport == "sync":
        hook.process_prompt(prompt="warm-up")
        before = peak_rss_mib()
        try:
            hook.process_prompt(prompt="the flood")
        except RaiaResponseTooLargeError:
            pass
        else:
            raise SystemExit("the 256 MiB answer was accepted")
        hook.close()
    else:

        async def both() -> float:
            await hook.aprocess_prompt(prompt="warm-up")
            start = peak_rss_mib()
            try:
                await hook.aprocess_prompt(prompt="the flood")
            except RaiaResponseTooLargeError:
                pass
            else:
                raise SystemExit("the 256 MiB answer was accepted")
            await hook.aclose()
            return start

        before = asyncio.run(both())
    listener.close()
    return peak_rss_mib() - before


def main() -> None:
    """Measure each transport in a process of its own and report the growth against the bound."""
    arguments = parser(__doc__)
    arguments.add_argument("--transport", choices=["sync", "async"], help="measure in this process (internal)")
    arguments.add_argument("--limit", type=int, default=32 * MiB, help="the hook's max_response_bytes (32 MiB)")
    args = arguments.parse_args()
    if args.transport:
        print(json.dumps({"growth_mib": measure(args.transport, args.limit)}))
        return
    report = Report(args.json)
    for transport in ("sync", "async"):
        done = subprocess.run(
            [sys.executable, __file__, "--transport", transport, "--limit", str(args.limit)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        growth = json.loads(done.stdout.strip().splitlines()[-1])["growth_mib"]
        report.add(
            Figure(
                "P7",
                f"peak RSS growth over a 256 MiB answer, {transport}",
                growth,
                "MiB",
                bound=args.limit / MiB + SLACK_MIB,
                detail=f"max_response_bytes {args.limit / MiB:g} MiB, no Content-Length",
            )
        )
    report.write()


if __name__ == "__main__":
    main()
