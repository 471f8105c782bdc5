#!/usr/bin/env python3
"""Walks the web UI of a running `fusebox serve` in headless Chromium, as a person would:

    scripts/check-ui.py BASE_URL READ_TOKEN WRITE_TOKEN MODEL SHOTS_DIR   (chromium, chromium-driver, selenium)

1. a page asked for without a session goes to the sign-in form; a wrong token is refused there;
   the read token signs in and comes back to the page asked for;
2. the runs explorer (runs logged through the API first): a query narrows the table to exactly
   the runs it names, a metric column header sorts the rows, a bad query says where it breaks;
3. a version's page (from the model's page) shows its fusion-weight chart and a download link;
4. a promotion through the API (write token) appears in the model's alias history on reload;
5. a stored string with markup is shown as text, never run; at phone width the page does not
   scroll sideways.
Writes screenshots to SHOTS_DIR; prints one JSON object {"checks": N, "problems": [...]}."""
import json
import os
import sys
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

base, read_token, write_token, model, shots = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
problems = []
checks = 0


def check(condition, message):
    global checks
    checks += 1
    if not condition:
        problems.append(message)


def api(method, path, body=None):
    request = urllib.request.Request(base + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": "Bearer " + write_token,
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")


def submit(element):
    """Submits a form (or clicks a link) and waits until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    if element.tag_name == "a":
        element.click()
    else:
        element.submit()
    WebDriverWait(driver, 15).until(expected_conditions.staleness_of(page))
    WebDriverWait(driver, 15).until(lambda d: d.execute_script("return document.readyState") == "complete")


# Runs logged over HTTP, for the explorer to find.
adam = []
for optimizer, accuracy in [("adam", 0.91), ("sgd", 0.84), ("adam", 0.88)]:
    run = api("POST", "/api/v1/runs", {"model": model, "params": {"recipe": optimizer}})
    api("POST", f"/api/v1/runs/{run['id']}/metrics", {"metrics": [{"key": "val_accuracy", "value": accuracy}]})
    if optimizer == "adam":
        adam.append(str(run["id"]))

options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=webdriver.ChromeService("/usr/bin/chromedriver"), options=options)
try:
    # 1. Sign in.
    driver.get(base + "/runs")
    check("/login" in driver.current_url, f"an anonymous visit to /runs went to {driver.current_url}, not /login")
    driver.find_element(By.ID, "token").send_keys("fbx_" + "0" * 64)
    submit(driver.find_element(By.ID, "token"))
    check(len(driver.find_elements(By.ID, "login-error")) == 1, "a wrong token was not refused on the sign-in page")
    driver.find_element(By.ID, "token").send_keys(read_token)
    submit(driver.find_element(By.ID, "token"))
    check(driver.current_url.rstrip("/").endswith("/runs"), f"after signing in the browser is at {driver.current_url}")
    cookies = {c["name"]: c for c in driver.get_cookies()}
    session = cookies.get("fusebox_session", {})
    check(session.get("httpOnly") is True, "the session cookie is not HttpOnly")
    check(driver.execute_script("return document.cookie").find("fusebox_session") < 0, "scripts can read the session cookie")
    driver.save_screenshot(os.path.join(shots, "runs.png"))

    # 2. The runs explorer.
    all_rows = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
    check(len(all_rows) >= 3, f"the runs explorer shows {len(all_rows)} runs")
    box = driver.find_element(By.ID, "query")
    box.send_keys("params.recipe = 'adam'")
    submit(box)
    found = sorted(row.find_elements(By.TAG_NAME, "td")[0].text for row in driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr"))
    check(found == sorted(adam), f"the query params.recipe = 'adam' shows runs {found}, not {sorted(adam)}")
    sort = [a for a in driver.find_elements(By.CSS_SELECTOR, "#runs thead a.sort") if a.text.startswith("val_accuracy")]
    check(len(sort) == 1, "no val_accuracy column to sort by")
    if sort:
        submit(sort[0])
        cells = driver.find_elements(By.CSS_SELECTOR, "#runs tbody tr")
        column = [th.text.split(" ")[0] for th in driver.find_elements(By.CSS_SELECTOR, "#runs thead th")].index("val_accuracy")
        values = [float(row.find_elements(By.TAG_NAME, "td")[column].text) for row in cells
                  if row.find_elements(By.TAG_NAME, "td")[column].text not in ("–", "")]
        check(values == sorted(values, reverse=True) and len(values) > 1, f"sorted by val_accuracy: {values}")
        check("recipe" in driver.current_url, "sorting forgot the query")
    box = driver.find_element(By.ID, "query")
    box.clear()
    box.send_keys("metrics.val_accuracy >>> 2")
    submit(box)
    errors = driver.find_elements(By.ID, "query-error")
    check(len(errors) == 1 and "column" in errors[0].text, "a bad query does not say where it breaks")
    driver.save_screenshot(os.path.join(shots, "runs-query-error.png"))

    # 3. A version's page, from the model's page.
    driver.get(base + "/models/" + model)
    links = driver.find_elements(By.CSS_SELECTOR, "#versions tbody tr td:first-child a")
    check(len(links) >= 2, f"the model page lists {len(links)} versions")
    submit(links[0])
    charts = driver.find_elements(By.CSS_SELECTOR, "#weights-chart svg")
    check(len(charts) == 1, "the version page has no fusion-weight chart")
    if charts:
        marks = charts[0].find_elements(By.CSS_SELECTOR, "polyline, path, rect")
        check(len(marks) > 2, "the weight chart draws nothing")
        size = charts[0].size
        check(size["width"] > 200 and size["height"] > 100, f"the weight chart is {size}")
    download = driver.find_element(By.ID, "download").get_attribute("href")
    check(download.endswith("/weights"), f"the download link is {download}")
    driver.save_screenshot(os.path.join(shots, "version.png"))

    # 4. A promotion through the API shows in the history on reload.
    driver.get(base + "/models/" + model)
    before = len(driver.find_elements(By.CSS_SELECTOR, "#history li"))
    moved = api("PUT", f"/api/v1/models/{model}/aliases/production", {"version": 2, "reason": "promoted from the UI test"})
    driver.refresh()
    after = driver.find_elements(By.CSS_SELECTOR, "#history li")
    check(len(after) == before + 1, f"the history had {before} events and has {len(after)} after a move")
    check(after and "promoted from the UI test" in after[0].text and "→ 2" in after[0].text,
          "the newest history entry is not the move: " + (after[0].text if after else "none"))
    aliases = driver.find_element(By.ID, "aliases").text
    check("production 2" in aliases, f"the aliases table says {aliases!r}")
    driver.save_screenshot(os.path.join(shots, "model.png"))

    # 5. Markup stored by a client is shown as text; a phone-width page does not scroll sideways.
    markup = "<img src=x onerror=\"document.title='owned'\">"
    run = api("POST", "/api/v1/runs", {"model": model, "tags": {"note": markup}, "params": {"label": "<b>bold</b>"}})
    driver.get(f"{base}/runs/{run['id']}")
    text = driver.find_element(By.TAG_NAME, "main").text
    check(markup in text and "<b>bold</b>" in text, "a stored string with markup is not shown as text")
    check(driver.title != "owned" and not driver.find_elements(By.CSS_SELECTOR, "main img"), "stored markup ran")
    driver.set_window_size(390, 844)
    for path in ["/models/" + model, "/runs", f"/models/{model}/versions/1"]:
        driver.get(base + path)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        check(overflow <= 1, f"{path} scrolls sideways by {overflow} px at 390 px")
    driver.save_screenshot(os.path.join(shots, "version-phone.png"))
finally:
    driver.quit()
print(json.dumps({"checks": checks, "problems": problems}))
