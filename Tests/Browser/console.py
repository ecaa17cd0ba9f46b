#!/usr/bin/env python3
"""The web console in a real browser: headless Chromium (Debian's chromium and chromium-driver) driven by Selenium.

Usage: console.py BASE_URL, with the tokens in SDE_RESEARCHER_TOKEN, SDE_REGULATOR_TOKEN and SDE_OFFICER_TOKEN, against
a live `serve` whose data has project P2025-002 open to the researcher and at least one version of release RELEASE
published to the regulator (SDE_RELEASE). SDE_SCREENSHOTS=DIR also saves the main pages as PNG files there.

Checks: sign in, run a vetted query, see a suppressed cell marked, download the CSV, sign out (and the session is
gone); a form posted without its anti-forgery token is refused; a regulator cannot open a researcher page; the
regulator's release page has its chart; the IG officer's audit page filters. Exit 0 when every check passes, 1 on the
first failure (saying which), 2 when the browser cannot start.
"""
import glob
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE = sys.argv[1].rstrip("/")
PROJECT, QUERY = "P2025-002", "requests-by-la-quarter"
RELEASE = os.environ.get("SDE_RELEASE", "cqc-requests-by-la-2024-25")
SHOTS = os.environ.get("SDE_SCREENSHOTS")


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def browser(downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": downloads, "download.prompt_for_download": False})
    # The system's chromedriver, never a downloaded one.
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def navigate(driver, action):
    """Runs `action` (a click or a submit) and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    action()
    WebDriverWait(driver, 60).until(expected_conditions.staleness_of(page))


def h1(driver):
    return driver.find_element(By.TAG_NAME, "h1").text


def screenshot(driver, name):
    if not SHOTS:
        return
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(height, 900), 2200))
    driver.save_screenshot(os.path.join(SHOTS, name + ".png"))
    driver.set_window_size(1280, 900)


def sign_in(driver, token):
    driver.get(BASE + "/console")
    check(h1(driver) == "Sign in", "without a session the console sends the user to sign in")
    field = driver.find_element(By.ID, "token")
    check(driver.find_element(By.CSS_SELECTOR, "label[for=token]").text == "API token", "the token field has its label")
    field.send_keys(token)
    navigate(driver, field.submit)
    check(h1(driver) == "Your account", "signed in")


def sign_out(driver):
    navigate(driver, driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click)
    check(h1(driver) == "Sign in", "signed out")
    driver.get(BASE + "/console")
    check(h1(driver) == "Sign in", "after signing out the session is gone")


def researcher(driver, downloads):
    driver.get(BASE + "/console/sign-in")
    screenshot(driver, "sign-in")
    sign_in(driver, os.environ["SDE_RESEARCHER_TOKEN"])
    navigate(driver, driver.find_element(By.LINK_TEXT, PROJECT).click)
    check(h1(driver) == f"Project {PROJECT}", "the project page opens from the list")
    Select(driver.find_element(By.ID, f"{QUERY}-from")).select_by_value("2024Q2")
    Select(driver.find_element(By.ID, f"{QUERY}-to")).select_by_value("2024Q3")
    navigate(driver, driver.find_element(By.XPATH, f"//button[text()='Run {QUERY}']").click)
    check(h1(driver) == f"{QUERY} for {PROJECT}", "the query ran")
    suppressed = driver.find_elements(By.CSS_SELECTOR, "td[data-status=suppressed]")
    check(len(suppressed) > 0, f"the table has suppressed cells ({len(suppressed)})")
    cell = suppressed[0]
    check(cell.find_element(By.CSS_SELECTOR, "span[aria-hidden=true]").text == "[c]", "a suppressed cell shows [c], never blank or 0")
    check("suppressed" in cell.get_attribute("textContent"), "a suppressed cell says 'suppressed' to screen readers")
    check("suppressed" in driver.find_element(By.CSS_SELECTOR, "p.disclosure").text, "the disclosure summary is shown")
    screenshot(driver, "researcher-table")

    driver.find_element(By.XPATH, "//button[text()='Download CSV']").click()
    deadline, files = time.time() + 20, []
    while time.time() < deadline:
        files = [f for f in glob.glob(os.path.join(downloads, "*.csv"))]
        if files:
            break
        time.sleep(0.2)
    check(len(files) == 1, "the CSV was downloaded")
    with open(files[0], encoding="utf-8") as f:
        csv = f.read()
    header = csv.splitlines()[0]
    check(header == "region_code,la_code,quarter,persons,persons_status,requests,requests_status", "the CSV has the API's columns")
    check(",suppressed" in csv and ",suppressed,0," not in csv, "the CSV marks suppressed cells by status, with no value")

    # A form whose anti-forgery token is taken out is refused.
    driver.get(BASE + f"/console/projects/{PROJECT}")
    driver.execute_script("document.querySelectorAll('section.query input[name=csrf]').forEach(e => e.remove())")
    navigate(driver, driver.find_element(By.XPATH, f"//button[text()='Run {QUERY}']").click)
    check(h1(driver) == "Forbidden", "a form without its anti-forgery token is refused")
    sign_out(driver)


def regulator(driver):
    sign_in(driver, os.environ["SDE_REGULATOR_TOKEN"])
    driver.get(BASE + f"/console/projects/{PROJECT}")
    check(h1(driver) == "Forbidden", "a regulator cannot open a researcher page")
    driver.get(BASE + "/console/releases")
    navigate(driver, driver.find_element(By.LINK_TEXT, RELEASE).click)
    check(h1(driver).startswith(f"Release {RELEASE}, version"), "the release page opens")
    rows = len(driver.find_elements(By.CSS_SELECTOR, "svg[role=img] text.bar-label"))
    drawn = len(driver.find_elements(By.CSS_SELECTOR, "svg[role=img] rect.bar")) + len(driver.find_elements(By.CSS_SELECTOR, "svg[role=img] text.bar-suppressed"))
    check(rows > 0 and drawn == rows, f"the release has its bar chart: a bar or a [c] mark for each of {rows} rows")
    check(len(driver.find_element(By.CSS_SELECTOR, "code.digest").text) == 64, "the SHA-256 is shown")
    screenshot(driver, "regulator-release")
    sign_out(driver)


def officer(driver):
    sign_in(driver, os.environ["SDE_OFFICER_TOKEN"])
    driver.get(BASE + "/console/audit")
    field = driver.find_element(By.ID, "filter-actor")
    field.send_keys("r-priya-shah")
    navigate(driver, field.submit)
    actions = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(6)")]
    check("query.run" in actions and "query.denied" in actions, "the audit page shows the researcher's run and the refused form")
    check(all(td.text == "r-priya-shah" for td in driver.find_elements(By.CSS_SELECTOR, "table.audit tbody td:nth-child(3)")), "filtered by actor")
    screenshot(driver, "audit")
    sign_out(driver)


def main():
    downloads = tempfile.mkdtemp(prefix="sde-browser-")
    try:
        driver = browser(downloads)
    except WebDriverException as error:
        print(f"the browser did not start: {error.msg}")
        return 2
    try:
        researcher(driver, downloads)
        regulator(driver)
        officer(driver)
    finally:
        driver.quit()
    print("all browser checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
