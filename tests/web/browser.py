"""What the browser tests and ``make screenshots`` share: a fresh build of the web app, Debian's
Chromium (installed if missing, as on a fresh CI machine) and Playwright driving it.

Playwright drives the system Chromium through ``executable_path``; it never downloads a browser
(``PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1`` when it is installed).
"""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
DIST_INDEX = WEB / "dist" / "index.html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--mute-audio"]
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def _newest_source() -> float:
    sources = [WEB / "index.html", WEB / "package-lock.json", WEB / "vite.config.ts", WEB / "tsconfig.json",
               *(WEB / "src").rglob("*"), *(WEB / "public").rglob("*")]
    return max(path.stat().st_mtime for path in sources if path.is_file())


def build_web_app() -> Path:
    """``npm ci && npm run build`` in web/ unless dist/ is newer than every source (as ``make web``)."""
    if DIST_INDEX.exists() and DIST_INDEX.stat().st_mtime >= _newest_source():
        return DIST_INDEX.parent
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed (apt: nodejs npm, Node 20.19+)")
    if not (WEB / "node_modules" / ".package-lock.json").exists() or \
            (WEB / "node_modules" / ".package-lock.json").stat().st_mtime < (WEB / "package-lock.json").stat().st_mtime:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run(["npm", "run", "build"], cwd=WEB, check=True)
    return DIST_INDEX.parent


def ensure_chromium() -> str:
    """Debian's chromium, installed with apt-get if this machine lacks it (CI starts fresh)."""
    if not Path(CHROMIUM).exists():
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    return CHROMIUM


def launch(playwright):
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    return playwright.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_FLAGS)


def tiny_mp4(seconds: int = 5, fps: int = 24, width: int = 320, height: int = 176) -> bytes:
    """A real H.264 MP4 (a slow colour sweep), small enough to make in a moment."""
    import io

    import av
    import numpy as np

    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for n in range(seconds * fps + 1):
            t = n / (seconds * fps)
            frame = np.empty((height, width, 3), dtype=np.uint8)
            frame[..., 0], frame[..., 1], frame[..., 2] = int(124 + 100 * t), 40, int(237 - 150 * t)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()
