"""The browser suite: the web view at /admin driven in Debian's headless Chromium (packages chromium,
chromium-driver and python3-selenium) against a real `spacehook serve` and the emulator, on loopback.

    /usr/bin/python3 -m pytest tests/browser          # after the debug build, as tests/functional

Every wait is bounded (WebDriverWait, page-load and script timeouts); each test saves screenshots of what
it saw under its temp dir (shots/). A missing browser fails the tests with the packages to install; it
never skips them.
"""
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from loopback import ROOT, Proc, procs, spacehook_bin  # noqa: E402,F401  (the fixture, and names the tests import)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PACKAGES = "apt-get install chromium chromium-driver python3-selenium"
WAIT = 15  # seconds any one thing on the page may take to appear


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """One headless Chromium for the session (starting one costs about a second of CPU per test)."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"python3-selenium is missing: {PACKAGES}", pytrace=False)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            pytest.fail(f"{path} is missing: {PACKAGES}", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1366,900", "--no-first-run", "--no-default-browser-check",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-features=Translate,MediaRouter,OptimizationHints",
                "--lang=en-US", f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    # Every request the page makes, read back from the performance log (the page must ask nothing
    # outside the service); console messages, so a CSP violation or a script error fails a test.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    log = tmp_path_factory.mktemp("chromedriver") / "chromedriver.log"
    service = Service(executable_path=CHROMEDRIVER, log_path=str(log))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(WAIT)
    driver.set_script_timeout(WAIT)
    yield driver
    driver.quit()
