"""``make screenshots``: every page of the web app at desktop (1440x900) and phone (390x844)
widths, on a local stack of its own with a little seeded history, into ``web/screenshots/``.

    python -m tests.web.screenshots [--out web/screenshots]
"""

import argparse
import tempfile
from pathlib import Path

import boto3

from cli.api import TERMINAL, CineWeaveClient
from devstack import stack as devstack
from devstack.clerk_dev import DevIssuer
from devstack.config import StackConfig, free_base_port
from tests.web.browser import DESKTOP, PHONE, WEB, build_web_app, launch, tiny_mp4

USER, ADMIN = "user_maya", "user_ops"
PROMPTS = [
    ("A lighthouse on a basalt cliff at dusk, waves exploding into spray, slow dolly in, volumetric fog", 10),
    ("Neon koi drifting through a flooded Tokyo alley at night, reflections rippling, anamorphic flare", 5),
    ("A paper boat sails down a rainy street [fail]", 5),
]


def seed(config: StackConfig, issuer: DevIssuer) -> dict[str, str]:
    admin = CineWeaveClient(config.base_url, issuer.token_source(ADMIN, azp=config.base_url, admin=True))
    user = CineWeaveClient(config.base_url, issuer.token_source(USER, azp=config.base_url))
    admin.grant(USER, 42)
    admin.grant("user_theo", 12)
    jobs = {}
    for prompt, seconds in PROMPTS:
        jobs[prompt] = user.create_job(prompt, seconds, seed=1234)["jobId"]
    for job_id in jobs.values():
        user.wait(job_id, lambda job: job["status"] in TERMINAL, timeout_s=60)
    done = jobs[PROMPTS[0][0]]
    s3 = boto3.client("s3", endpoint_url=config.s3_url, aws_access_key_id=config.s3_access_key,
                      aws_secret_access_key=config.s3_secret_key, region_name="us-east-1")
    s3.put_object(Bucket=config.bucket, Key=f"videos/{done}.mp4", Body=tiny_mp4(seconds=10), ContentType="video/mp4")
    portrait = user.create_job("A skateboarder carves a sunset bowl, low angle, golden light", 5, aspect_ratio="9:16")["jobId"]
    user.wait(portrait, lambda job: job["status"] in TERMINAL, timeout_s=60)
    extension = user.extend(done, 5, prompt="The beam sweeps out over a calm sea")["jobId"]
    user.wait(extension, lambda job: job["status"] in TERMINAL, timeout_s=60)
    running = user.create_job("Aurora over a glacier lagoon, drifting icebergs, timelapse clouds [slow:600]", 15)["jobId"]
    user.wait(running, lambda job: job["status"] == "running" and job.get("progress", {}).get("percent", 0) > 0, timeout_s=60)
    return {"done": done, "running": running, "failed": jobs[PROMPTS[2][0]], "extension": extension}


def capture(config: StackConfig, issuer: DevIssuer, jobs: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots = []
    pages = [
        ("dashboard", "/app/", "[data-testid=recent-jobs] li"),
        ("create", "/app/create", "#prompt"),
        ("create-creator-tools", "/app/create", "[data-testid=template-picker]"),
        ("create-shots", "/app/create", "[data-testid=prompt-mode]"),
        ("job-done", f"/app/jobs/{jobs['done']}", "[data-testid=download]"),
        ("job-extend-remix", f"/app/jobs/{jobs['done']}", "[data-testid=extend]"),
        ("job-extension", f"/app/jobs/{jobs['extension']}", "[data-testid=parent-link]"),
        ("job-running", f"/app/jobs/{jobs['running']}", "[data-testid=progress]"),
        ("job-failed", f"/app/jobs/{jobs['failed']}", "[data-testid=job-error]"),
        ("account", "/app/account", "[data-testid=ledger]"),
    ]
    admin_pages = [("admin-overview", None), ("admin-metrics", "Metrics"), ("admin-jobs", "Jobs"), ("admin-users", "Users")]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for width_name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            context = browser.new_context(viewport=viewport, base_url=config.base_url, device_scale_factor=1)
            page = context.new_page()
            page.goto("/app/")
            shots.append(_shot(page, out / f"signin-{width_name}.png"))
            page.evaluate("t => sessionStorage.setItem('cineweave.devToken', t)", issuer.mint(USER, azp=config.base_url, lifetime_s=3600))
            for name, path, ready in pages:
                page.goto(path)
                page.wait_for_selector(ready)
                if name == "create":
                    page.fill("#prompt", "A lone astronaut walks through a field of bioluminescent flowers, "
                                         "camera cranes up to reveal twin moons, 35mm film grain")
                    page.check("input[name=durationSec][value='10']", force=True)
                if name == "create-creator-tools":
                    page.select_option("select[name=template-subject]", "game-idle-forest")
                    page.select_option("select[name=template-lighting]", "light-volumetric")
                    page.check("input[name=aspectRatio][value='9:16']", force=True)
                    page.click("summary:text-is('Advanced')")
                    page.fill("#negativePrompt", "blurry, text, watermark")
                if name == "create-shots":
                    page.check("input[name=promptMode][value=shots]", force=True)
                    page.check("input[name=durationSec][value='15']", force=True)
                    for n, text in enumerate(["A door creaks open onto a moonlit attic", "A cat pads across dusty floorboards",
                                              "The cat curls up in a beam of moonlight"]):
                        page.fill(f"#shot-{n}", text)
                if name == "job-extend-remix":
                    page.click("[data-testid=extend]")
                    page.click("[data-testid=remix]")
                if name == "dashboard":  # posters load lazily: scroll past them all, then back
                    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
                    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=tile-poster]')].every(i => i.complete)")
                    page.evaluate("window.scrollTo(0, 0)")
                if name == "job-done":
                    page.wait_for_function("() => document.querySelector('[data-testid=video]').readyState >= 2")
                    page.eval_on_selector("[data-testid=video]", "v => { v.currentTime = 4; }")
                    page.wait_for_function("() => { const v = document.querySelector('[data-testid=video]'); return !v.seeking && v.readyState >= 3; }")
                    page.wait_for_timeout(600)
                shots.append(_shot(page, out / f"{name}-{width_name}.png"))
            page.goto("/app/admin")
            page.wait_for_selector("[data-testid=admin-forbidden]")
            shots.append(_shot(page, out / f"admin-forbidden-{width_name}.png"))
            page.evaluate("t => sessionStorage.setItem('cineweave.devToken', t)", issuer.mint(ADMIN, azp=config.base_url, admin=True, lifetime_s=3600))
            page.goto("/app/admin")
            for name, tab in admin_pages:
                if tab:
                    page.click(f"role=tab[name={tab}]")
                page.wait_for_selector({"admin-overview": "[data-testid=daily-table]", "admin-jobs": "[data-testid=admin-jobs]",
                                        "admin-metrics": "[data-testid=cohort-table]",
                                        "admin-users": "[data-testid=admin-users]"}[name])
                shots.append(_shot(page, out / f"{name}-{width_name}.png"))
            context.close()
        browser.close()
    return shots


def _shot(page, path: Path) -> Path:
    page.wait_for_timeout(400)  # let transitions settle
    page.screenshot(path=str(path), full_page=True)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.web.screenshots")
    parser.add_argument("--out", type=Path, default=WEB / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    build_web_app()
    with tempfile.TemporaryDirectory(prefix="cineweave-shots-") as state:
        config = StackConfig(base_port=free_base_port(24080), state_dir=Path(state), worker="test", workers=2,
                             webhook_retry_delay_s=0.2, function_env={"RUNPOD_STATUS_CACHE_S": "0.2"})
        devstack.up(config)
        try:
            issuer = DevIssuer(config.clerk_keys_dir, config.clerk_issuer)
            shots = capture(config, issuer, seed(config, issuer), args.out)
        finally:
            devstack.down(config)
    for shot in shots:
        print(shot.relative_to(Path.cwd()) if shot.is_relative_to(Path.cwd()) else shot)


if __name__ == "__main__":
    main()
