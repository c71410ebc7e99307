"""python -m devstack up|down|status|check — the local stack (see devstack/stack.py)."""

import argparse
import sys

from devstack import processes, stack
from devstack.config import StackConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack")
    parser.add_argument("command", choices=["up", "down", "status", "check"])
    parser.add_argument("--worker", choices=["video", "test", "none"], default="video")
    parser.add_argument("--tick-interval", type=float, default=60.0, help="seconds between clock ticks (0: none)")
    args = parser.parse_args(argv)
    config = StackConfig(worker=args.worker, tick_interval_s=args.tick_interval or None)
    if args.command == "check":
        try:
            stack.check_prerequisites()
        except stack.MissingPrerequisite as exc:
            print(f"missing prerequisite: {exc}", file=sys.stderr)
            return 1
    elif args.command == "up":
        try:
            stack.up(config)
        except (stack.MissingPrerequisite, TimeoutError, RuntimeError) as exc:
            print(f"make up failed: {exc}", file=sys.stderr)
            stack.down(config)
            return 1
        print(f"CineWeave local stack is up at {config.base_url} (logs in {config.state_dir / 'logs'}); "
              f"the web app: {config.base_url}/app/")
    elif args.command == "down":
        stack.down(config)
        print("CineWeave local stack is down")
    else:
        for name, pid in processes.running(config.state_dir).items():
            print(f"{name:10} pid {pid}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
