#!/usr/bin/env python3
"""Opens HTML reports and SVG charts in headless Chromium and checks, with the browser's own text
layout, that every label of every chart lies inside its chart and that no two labels overlap.

    scripts/check-chart-layout.py OUT_DIR FILE...   (needs chromium, chromium-driver, selenium)

Writes a full-page screenshot of each file to OUT_DIR and prints one JSON object:
{"checked": N, "problems": ["file: 'label' leaves its chart", ...]}. Labels turned by a rotate()
transform are checked against the chart's bounds only (their boxes are diagonal)."""
import json
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options

SCRIPT = """
const problems = [];
let checked = 0;
for (const svg of document.querySelectorAll('svg')) {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => ({
    text: t.textContent, rect: t.getBoundingClientRect(),
    turned: (t.getAttribute('transform') || '').includes('rotate')
  })).filter(t => t.text.trim().length > 0);
  checked += texts.length;
  for (const t of texts) {
    const r = t.rect;
    if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
      problems.push(`'${t.text}' leaves its chart (${Math.round(r.left)}..${Math.round(r.right)} of ${Math.round(box.left)}..${Math.round(box.right)})`);
  }
  const flat = texts.filter(t => !t.turned);
  for (let i = 0; i < flat.length; i++) for (let j = i + 1; j < flat.length; j++) {
    const a = flat[i].rect, b = flat[j].rect;
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) problems.push(`'${flat[i].text}' and '${flat[j].text}' overlap`);
  }
}
return [checked, problems];
"""


def main():
    out, files = sys.argv[1], sys.argv[2:]
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options)
    checked, problems = 0, []
    try:
        for path in files:
            driver.get("file://" + os.path.abspath(path))
            n, found = driver.execute_script(SCRIPT)
            checked += n
            problems += [f"{os.path.basename(path)}: {p}" for p in found]
            height = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(1400, max(1000, height))
            driver.save_screenshot(os.path.join(out, os.path.basename(path) + ".png"))
    finally:
        driver.quit()
    print(json.dumps({"checked": checked, "problems": problems}))


if __name__ == "__main__":
    main()
