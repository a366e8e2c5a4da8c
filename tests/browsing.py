"""Debian's chromium, headless, with every host but loopback unreachable: for the browser tests.

No browser or driver is ever downloaded (no Selenium Manager): without /usr/bin/chromium and
/usr/bin/chromedriver the tests fail and say how to install them (`make test-tools`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

__all__ = ["ARTIFACTS", "offline_chromium", "ours", "requested_urls", "severe_console_errors"]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Screenshots the browser tests keep (not committed; CI may collect them).
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"


@contextmanager
def offline_chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A headless chromium that can reach 127.0.0.1 only, with its network and console logs on."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing:
        pytest.fail("Debian's chromium is needed for the browser tests; missing " + ", ".join(missing)
                    + ". Install it with `make test-tools` (apt-get install chromium chromium-driver).")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch anything
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-default-apps", "--window-size=1400,1000",
                 f"--user-data-dir={profile}",
                 # Every host but loopback is unreachable: no name resolves, and any request that
                 # still tried would go to a proxy on the discard port, which refuses it.
                 "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                 "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=127.0.0.1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def requested_urls(driver) -> list[str]:
    """Every URL the page asked for since the last call, from Chrome's network log (failed ones too)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def severe_console_errors(driver) -> list[str]:
    """The page's console errors since the last call."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def ours(url: str, server_url: str) -> bool:
    """A request to our server, or one the browser answers itself (chrome:// and chrome-untrusted://
    pages such as chromium 150's new-tab page, data: URLs): none of those leaves the machine."""
    return url.startswith((server_url + "/", "data:", "blob:", "chrome:", "chrome-untrusted:"))
