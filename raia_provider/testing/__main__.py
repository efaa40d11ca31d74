"""Run the raia emulator from the command line.

``python -m raia_provider.testing --port N --key KEY [--host 127.0.0.1] [--agent-name NAME]
[--prompt-delay S] [--latency S] [--pending-style null|status|alternate] [--rate-limit RPS] [--burst N]
[--message-delay S] [--message-status-vocabulary spec|release_notes] [--vector-store-delay S]
[--storage-host 127.0.0.1] [--storage-port N] [--json-answers valid|invalid|mismatch]``

Prints ``raia emulator listening on http://127.0.0.1:PORT/external`` (flushed) once it serves, so a parent
process can read the port (``--port 0`` picks a free one). Without ``--key`` a key is generated and printed on
the next line. Then ``storage service at http://HOST:PORT``: the origin of the signed upload URLs
(also in ``GET /_emulator/health`` as ``storage_url``). Stops cleanly on SIGTERM or SIGINT. Only loopback
hosts are accepted.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import uuid
from collections.abc import Sequence
from types import FrameType

from raia_provider.testing.emulator.config import JSON_ANSWERS, MESSAGE_STATUS_VOCABULARIES, PENDING_STYLES
from raia_provider.testing.emulator.net import loopback_host
from raia_provider.testing.emulator.state import DEFAULT_AGENT_NAME


def _delay(text: str) -> float | None:
    if text.lower() in {"none", "hold"}:
        return None
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m raia_provider.testing",
        description="Serve an emulator of raia's external API on a loopback port.",
    )
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: pick a free one)")
    parser.add_argument("--key", help="the default agent's Agent-Secret-Key (generated and printed if omitted)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--agent-name", default=DEFAULT_AGENT_NAME, help="the default agent's name")
    parser.add_argument(
        "--prompt-delay",
        type=_delay,
        default=0.2,
        help="seconds until an async prompt completes; 'none' holds prompts until completed via the control API",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every /external response")
    parser.add_argument("--pending-style", choices=PENDING_STYLES, default="null", help="body of a not-ready poll")
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second per agent")
    parser.add_argument("--burst", type=int, default=None, help="token-bucket size for --rate-limit")
    parser.add_argument(
        "--message-delay",
        type=_delay,
        default=0.2,
        help="seconds until an async message is answered; 'none' holds answers until completed via the control API",
    )
    parser.add_argument(
        "--message-status-vocabulary",
        choices=MESSAGE_STATUS_VOCABULARIES,
        default="spec",
        help="status words of a message poll: spec (pending/completed/failed) or release_notes (running/...)",
    )
    parser.add_argument(
        "--vector-store-delay",
        type=_delay,
        default=0.2,
        help="seconds an agent file stays 'processing' in the vector store; 'none' holds it",
    )
    parser.add_argument(
        "--storage-host",
        default=None,
        help="loopback address of the storage service behind signed upload URLs (default: --host)",
    )
    parser.add_argument("--storage-port", type=int, default=0, help="port of the storage service (0: pick a free one)")
    parser.add_argument(
        "--json-answers",
        choices=JSON_ANSWERS,
        default="valid",
        help="answers of an agent with an output JSON Schema: valid, invalid (not JSON) or mismatch (breaks it)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGTERM or SIGINT.

    :param argv: command-line arguments (default: ``sys.argv[1:]``).
    :return: the process exit code.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        host = loopback_host(args.host)
        storage_host = loopback_host(args.storage_host) if args.storage_host is not None else host
    except ValueError as error:
        parser.error(str(error))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from raia_provider.testing.emulator.server import RaiaEmulator  # FastAPI/uvicorn only once needed

    key = args.key or str(uuid.uuid4())
    try:
        emulator = RaiaEmulator(
            key=key,
            agent_name=args.agent_name,
            host=host,
            port=args.port,
            prompt_delay=args.prompt_delay,
            latency=args.latency,
            pending_style=args.pending_style,
            rate_limit=args.rate_limit,
            burst=args.burst,
            message_delay=args.message_delay,
            message_status_vocabulary=args.message_status_vocabulary,
            vector_store_delay=args.vector_store_delay,
            storage_host=storage_host,
            storage_port=args.storage_port,
            json_answers=args.json_answers,
        )
    except ValueError as error:
        parser.error(str(error))

    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        emulator.start()
    except (OSError, RuntimeError) as error:
        where = f"{host}:{args.port} (storage {storage_host}:{args.storage_port})"
        print(f"raia emulator: cannot listen on {where}: {error}", file=sys.stderr)
        return 1
    try:
        print(f"raia emulator listening on {emulator.base_url}", flush=True)
        if args.key is None:
            # Asked for: the user needs the generated key to call the emulator.
            print(f"agent secret key: {key}", flush=True)
        print(f"storage service at {emulator.storage_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
