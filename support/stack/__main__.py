"""`python -m support.stack up`: boot the embedded stack for a person, until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from support.core.target import ENDPOINTS, env_name
from support.stack import EmbeddedStack, StackError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m support.stack")
    parser.add_argument(
        "command", choices=["up"], help="boot the stack and keep it up until interrupted"
    )
    parser.parse_args(argv)

    stack = EmbeddedStack()
    try:
        target = stack.start()
    except StackError as error:
        print(f"stack: {error}\nstack: logs are in {stack.run_dir}", file=sys.stderr)
        return 1
    key_file = stack.run_dir / "keys" / "jwt_private.pem"
    key_file.write_text(target.jwt_private_key)
    key_file.chmod(0o600)
    print(f"# embedded stack ready in {stack.boot_seconds:.2f} s; logs in {stack.run_dir}")
    for endpoint in ENDPOINTS:
        print(f"export {env_name(endpoint)}={getattr(target, endpoint)}")
    print(f"export {env_name('jwt_private_key_file')}={key_file}")
    print("# Ctrl-C stops it", flush=True)

    stopped = threading.Event()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    stopped.wait()
    try:
        stack.stop()
    except StackError as error:
        print(f"stack: {error}", file=sys.stderr)
        return 1
    print("# stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
