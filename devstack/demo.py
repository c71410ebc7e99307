"""``make demo``: a prompt in, a playable 720p 24 fps MP4 out, through the whole local pipeline.

Brings the local stack up with the video worker (the tiny random Wan 2.2-shaped model on this
CPU, or the real one if ``WAN_WEIGHTS_DIR`` holds it), grants the demo user a credit, creates
the job over HTTP with a dev session token, shows live progress, downloads the MP4, checks it
with PyAV, and prints its path beside the address of the job page, where the clip plays in the
web app. Run from a terminal, it waits for Enter before it takes the stack down (so that page can
be opened); ``--keep-up`` leaves the stack running (``make down`` stops it).
"""

import argparse
import sys
import uuid
from pathlib import Path

import av

from cineweave_client import Client
from cli.api import CineWeaveClient
from cli.main import follow
from devstack import stack
from devstack.clerk_dev import DevIssuer
from devstack.config import ROOT, StackConfig

DEFAULT_PROMPT = "A slow cinematic dolly shot of a lighthouse on a cliff at golden hour, waves crashing below"


def describe(path: Path) -> str:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return f"{stream.codec_context.name} {stream.width}x{stream.height} {float(stream.average_rate):.0f} fps, {frames} frames"


def job_page(base_url: str, job_id: str) -> str:
    """Where the web app (served by the local gateway under /app/) shows this job and plays its clip."""
    return f"{base_url.rstrip('/')}/app/jobs/{job_id}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo")
    parser.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT)
    parser.add_argument("--duration", type=int, choices=[5, 10, 15], default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "demo-output" / "cineweave-demo.mp4")
    parser.add_argument("--keep-up", action="store_true", help="leave the local stack running afterwards")
    args = parser.parse_args(argv)

    config = StackConfig(worker="video")
    print(f"starting the local stack at {config.base_url} ...", file=sys.stderr)
    stack.up(config)
    try:
        issuer = DevIssuer(config.clerk_keys_dir, config.clerk_issuer)
        admin = CineWeaveClient(config.base_url, issuer.token_source("user_admin", azp=config.base_url, admin=True))
        admin.grant("user_demo", args.duration // 5, grant_id=f"demo-{uuid.uuid4().hex}")
        client = Client(config.base_url, issuer.token_source("user_demo", azp=config.base_url))
        job_id = client.create(args.prompt, args.duration).job_id
        path = follow(client, job_id, args.out, timeout_s=1800)
        print(f"verified: {describe(path)} (tiny random model unless WAN_WEIGHTS_DIR is set: the pixels are noise)", file=sys.stderr)
        print(f"job page: {job_page(config.base_url, job_id)}  (the web app; sign in as user_demo)", file=sys.stderr)
        print(path)
        if not args.keep_up and sys.stdin.isatty():
            input("press Enter to take the local stack down (the job page works until then) ")
    finally:
        if not args.keep_up:
            stack.down(config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
