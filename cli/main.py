"""``cineweave``: the command-line client, built on ``cineweave_client.Client``.

Configuration: ``CINEWEAVE_API`` (default http://127.0.0.1:8080), ``CINEWEAVE_TOKEN`` (an API key
``cw_live_…`` or a Clerk session token). Against the local stack no token is needed: session
tokens are minted from the dev issuer's keys for ``CINEWEAVE_USER`` (default ``user_demo``).
"""

import argparse
import json
import os
import sys
from pathlib import Path

from pydantic import BaseModel

from cineweave_client import ApiError, Client
from cli.progress import ProgressBar
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig
from schemas.api import CreateJobResponse
from schemas.jobs import JobStatus


def _local_issuer() -> DevIssuer:
    config = StackConfig()
    issuer = DevIssuer(config.clerk_keys_dir, config.clerk_issuer)
    if not issuer.kids():
        raise SystemExit("no dev issuer keys: run `make up` first")
    return issuer


def _base_url() -> str:
    return os.environ.get("CINEWEAVE_API", StackConfig().base_url)


def dev_token(user_id: str, admin: bool = False) -> str:
    return _local_issuer().mint(user_id, azp=_base_url(), admin=admin)


def _client(admin: bool = False) -> Client:
    token = os.environ.get("CINEWEAVE_TOKEN")
    if not token:
        token = _local_issuer().token_source(os.environ.get("CINEWEAVE_USER", "user_demo"), azp=_base_url(), admin=admin)
    return Client(_base_url(), token)


def _print(data: BaseModel | dict) -> None:
    print(json.dumps(data.to_wire() if hasattr(data, "to_wire") else data, indent=2))


def cmd_dev_token(args: argparse.Namespace) -> None:
    print(dev_token(args.user, admin=args.admin))


def cmd_grant(args: argparse.Namespace) -> None:
    body = {"userId": args.user, "credits": args.credits, "grantId": os.urandom(8).hex()}
    _print(_client(admin=True).http.json("POST", "/admin/grants", json=body))


def follow(client: Client, job_id: str, out: Path | None, timeout_s: float) -> Path:
    """Show the job's progress until it ends; download its MP4 and return where it was saved."""
    print(f"job {job_id} accepted", file=sys.stderr)
    bar = ProgressBar(sys.stderr)
    job = client.wait(job_id, timeout_s=timeout_s, on_update=bar.update)  # the event stream; polls if it breaks
    bar.close()
    if job.status is not JobStatus.DONE or job.video is None:
        raise SystemExit(f"job {job_id} ended {job.status.value}: {job.error.message if job.error else ''}")
    saved = client.download(job, out or Path(f"{job_id}.mp4"))
    video = job.video
    print(f"saved {video.width}x{video.height}, {video.fps} fps, {video.frames} frames", file=sys.stderr)
    return saved.resolve()


def cmd_create(args: argparse.Namespace) -> None:
    client = _client()
    created = client.create(args.prompt, args.duration, seed=args.seed, image=args.image, image_url=args.image_url,
                            aspect_ratio=args.ratio, negative_prompt=args.negative, quality=args.quality, shots=args.shot)
    _finish(client, created, args)


def cmd_extend(args: argparse.Namespace) -> None:
    client = _client()
    _finish(client, client.extend(args.job_id, args.duration, prompt=args.prompt), args)


def cmd_remix(args: argparse.Namespace) -> None:
    client = _client()
    _finish(client, client.remix(args.job_id, args.prompt, negative_prompt=args.negative, seed=args.seed), args)


def _finish(client: Client, created: CreateJobResponse, args: argparse.Namespace) -> None:
    if args.wait:
        print(follow(client, created.job_id, args.out, args.timeout))
    else:
        _print(created)


def cmd_status(args: argparse.Namespace) -> None:
    _print(_client().get(args.job_id))


def cmd_jobs(args: argparse.Namespace) -> None:
    _print(_client().list(limit=args.limit))


def cmd_cancel(args: argparse.Namespace) -> None:
    _print(_client().cancel(args.job_id))


def cmd_credits(args: argparse.Namespace) -> None:
    _print(_client().credits())


def cmd_keys(args: argparse.Namespace) -> None:
    client = _client()
    if args.action == "create":
        if not args.name:
            raise SystemExit("keys create needs a name")
        _print(client.create_key(args.name))
    elif args.action == "revoke":
        if not args.name:
            raise SystemExit("keys revoke needs a key id")
        _print(client.revoke_key(args.name))
    else:
        _print(client.list_keys())


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="cineweave", description="CineWeave: prompt or image in, 720p video out")
    sub = root.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dev-token", help="mint a local dev session token (printed alone on the last line)")
    p.add_argument("user")
    p.add_argument("--admin", action="store_true")
    p.set_defaults(run=cmd_dev_token)

    p = sub.add_parser("grant", help="grant credits to a user (admin)")
    p.add_argument("user")
    p.add_argument("credits", type=int)
    p.set_defaults(run=cmd_grant)

    p = sub.add_parser("create", help="create a video job")
    p.add_argument("prompt", nargs="?", default="", help="what to film (optional with --shot)")
    p.add_argument("--duration", type=int, choices=[5, 10, 15], default=5)
    p.add_argument("--image", type=Path, help="a PNG, JPEG or WebP to animate")
    p.add_argument("--image-url")
    p.add_argument("--seed", type=int)
    p.add_argument("--ratio", choices=["16:9", "9:16"], help="frame shape (default: 16:9, or the image's orientation)")
    p.add_argument("--negative", metavar="TEXT", help="what the video should avoid (default: the model's own list)")
    p.add_argument("--quality", choices=["standard", "fast"],
                   help="standard (default: 50 steps) or fast (3-step distilled model, where deployed)")
    p.add_argument("--shot", action="append", metavar="PROMPT",
                   help="a storyboard: once per 5 s of a 10 or 15 s clip (the prompt may then be empty)")
    _follow_options(p)
    p.set_defaults(run=cmd_create)

    p = sub.add_parser("extend", help="continue a done clip from its last frame (at most 30 s in all)")
    p.add_argument("job_id")
    p.add_argument("--duration", type=int, choices=[5, 10, 15], default=5, help="seconds to add (and pay for)")
    p.add_argument("--prompt", help="default: the clip's own (last) prompt")
    _follow_options(p)
    p.set_defaults(run=cmd_extend)

    p = sub.add_parser("remix", help="a new clip with a done clip's settings and seed, and a new prompt")
    p.add_argument("job_id")
    p.add_argument("prompt")
    p.add_argument("--seed", type=int, help="default: the parent's seed")
    p.add_argument("--negative", metavar="TEXT", help="default: the parent's negative prompt")
    _follow_options(p)
    p.set_defaults(run=cmd_remix)

    for name, run, text in (("status", cmd_status, "a job's status"), ("cancel", cmd_cancel, "cancel a job")):
        p = sub.add_parser(name, help=text)
        p.add_argument("job_id")
        p.set_defaults(run=run)

    p = sub.add_parser("jobs", help="your jobs, newest first")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(run=cmd_jobs)

    p = sub.add_parser("credits", help="your balance and recent ledger entries")
    p.set_defaults(run=cmd_credits)

    p = sub.add_parser("keys", help="your API keys: list, create NAME (shown once), revoke KEY_ID (session token only)")
    p.add_argument("action", choices=["list", "create", "revoke"], nargs="?", default="list")
    p.add_argument("name", nargs="?", help="the new key's name, or the key id to revoke")
    p.set_defaults(run=cmd_keys)
    return root


def _follow_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--wait", action="store_true", help="follow progress and download the MP4")
    p.add_argument("--out", type=Path, help="where --wait saves the MP4")
    p.add_argument("--timeout", type=float, default=1800)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
