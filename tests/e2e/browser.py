"""Debian's Chromium driven by selenium through Debian's chromedriver, for the console's tests.

No browser is ever downloaded: without /usr/bin/chromium and /usr/bin/chromedriver (and a font
with Chinese glyphs, or the screenshots would show empty boxes) the tests skip and say how to get
them (`make browser`, as root on Debian). The flags are the ones that work on this kind of machine:
without the background-networking ones Chromium keeps knocking on Google's hosts, which a county
intranet (and this machine) refuses.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DESK = (1366, 768)
PHONE = (412, 915)
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--lang=zh-CN",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return f"no {CHROMIUM} and {CHROMEDRIVER}: `make browser` installs Debian's chromium (root)"
    fc_list = shutil.which("fc-list")
    fonts = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True).stdout if fc_list else ""
    if not fonts.strip():
        return "no font with Chinese glyphs (fc-list :lang=zh): `make browser` installs fonts-wqy-microhei"
    return None


@contextmanager
def chromium(profile: Path) -> Iterator[Any]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={DESK[0]},{DESK[1]}")
    # The page's console, to catch a Content-Security-Policy violation (an asset from elsewhere).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
