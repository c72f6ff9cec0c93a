"""Command line: python -m sandbox start|stop|status|run-schedules [--port P] [--seed NAME] [--background]."""

import argparse
import logging
import os
import sys

from sandbox import DEFAULT_PORT, DEFAULT_SEED


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"port must be a number from 1 to 65535, got {text!r}") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be a number from 1 to 65535, got {port}")
    return port


def _parser() -> argparse.ArgumentParser:
    default_port = os.environ.get("SANDBOX_PORT") or str(DEFAULT_PORT)
    default_seed = os.environ.get("SANDBOX_SEED") or DEFAULT_SEED
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="The local AWS sandbox (moto on 127.0.0.1).")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("start", help="start the sandbox (foreground unless --background)")
    start.add_argument("--port", type=_port, default=default_port, help=f"port (SANDBOX_PORT, default {DEFAULT_PORT})")
    start.add_argument("--seed", default=default_seed, help=f"starting state (SANDBOX_SEED, default {DEFAULT_SEED})")
    start.add_argument("--background", action="store_true", help="run detached; return once it is seeded and ready")
    for name, text in (("stop", "stop the background sandbox"), ("status", "say whether a sandbox answers")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--port", type=_port, default=default_port, help="port (SANDBOX_PORT)")
    schedules = commands.add_parser(
        "run-schedules", help="run every backup plan and enabled DLM policy now, as AWS does on their schedule"
    )
    schedules.add_argument("--port", type=_port, default=default_port, help="port (SANDBOX_PORT)")
    schedules.add_argument("--region", action="append", help="region (repeatable; default us-east-1)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if isinstance(args.port, str):
        args.port = _port(args.port)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from sandbox import server

    try:
        if args.command == "start" and args.background:
            endpoint = server.start_background(args.port, args.seed)
            print(f"sandbox ready on {endpoint} (seed {args.seed!r})")
            print(f"stop it with: python -m sandbox stop --port {args.port}")
            print(f"export AWS_ENDPOINT_URL={endpoint}")
            return 0
        if args.command == "start":
            server.serve(args.port, args.seed)
            # Everything lives in memory: skip the slow teardown of moto's module state.
            sys.stdout.flush()
            sys.stderr.flush()
            logging.shutdown()
            os._exit(0)
        if args.command == "run-schedules":
            from sandbox import schedules

            for line in schedules.run(args.port, args.region or ["us-east-1"]):
                print(line)
            return 0
        if args.command == "stop":
            print(server.stop(args.port))
            return 0
        running, text = server.status(args.port)
        print(text)
        return 0 if running else 1
    except server.SandboxError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
