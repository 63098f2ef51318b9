"""Log in as a user and screenshot pages with Debian's Chromium: how we look at what we built.

    .venv/bin/python scripts/screenshot.py --base http://127.0.0.1:8000 --email admin@acme.test \
        --out var/shots / /billing/ /archive/
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser.chromium import CHROMIUM_ARGS  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--email", default="admin@acme.test")
    parser.add_argument("--password", default="demo-pass-2026")
    parser.add_argument("--out", default="var/shots")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--wait", type=int, default=1200, help="ms to let maps and htmx settle")
    opts = parser.parse_args()
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": opts.width, "height": opts.height})
        page.on(
            "console",
            lambda m: print(f"  console.{m.type}: {m.text}") if m.type in ("error", "warning") else None,
        )
        page.goto(opts.base + "/login/")
        page.fill("#id_username", opts.email)
        page.fill("#id_password", opts.password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for path in opts.paths:
            page.goto(opts.base + path)
            page.wait_for_load_state("networkidle")
            page.wait_for_timeout(opts.wait)
            name = re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_") or "home"
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=False)
            print(target)
        browser.close()


if __name__ == "__main__":
    main()
