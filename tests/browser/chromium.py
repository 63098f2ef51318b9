"""How we start Debian's Chromium headless here: no sandbox as root, and none of the background
networking that a closed network refuses (it would fill the logs)."""

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
