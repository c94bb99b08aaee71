"""Make the lab's screenshots for the docs: start ``microgradnet lab``, drive it in headless
Chromium (train a few epochs, draw a digit, pick a neuron, open the confusion matrix, map a
layer, explain a step) and save a picture of each panel into ``docs/images/``.

    python scripts/lab_screenshots.py [--out docs/images]

Needs the lab extra, Playwright and Chromium (``/usr/bin/chromium``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def wait(page, expr: str, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if page.evaluate(expr):
            return
        time.sleep(0.1)
    raise SystemExit(f"timed out waiting for {expr}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as save_dir:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "microgradnet",
                "lab",
                "--port",
                "0",
                "--no-browser",
                "--save-dir",
                save_dir,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = proc.stdout.readline().strip()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
                page.goto(url)
                wait(page, "window.microgradnet.ready === true")
                page.fill("#c-lr", "3")
                page.click("#b-play")  # 30 epochs, as `microgradnet train` does
                wait(page, "window.microgradnet.epoch >= 29")
                page.click("#b-epoch")
                wait(page, "window.microgradnet.mode === 'paused'")
                time.sleep(0.5)
                box = page.locator("#pad").bounding_box()
                x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.2
                page.mouse.move(x, y)
                page.mouse.down()
                for i in range(30):  # a "7"
                    if i < 12:
                        page.mouse.move(x + 7 * i, y)
                    else:
                        page.mouse.move(x + 84 - 3 * (i - 12), y + 7 * (i - 12))
                page.mouse.up()
                wait(page, "window.microgradnet.output !== null")
                page.click("#network circle[data-layer='1'][data-index='3']")
                wait(page, "!document.getElementById('neuron').hidden")
                page.click("#b-confusion")
                wait(page, "!!window.microgradnet.confusion")
                page.click("#confusion td.wrong")
                page.click("#b-embed")
                wait(page, "window.microgradnet.embedding > 0")
                time.sleep(0.5)
                args.out.mkdir(parents=True, exist_ok=True)
                shots = {
                    "lab_overview.png": "body",
                    "lab_train.png": "#p-train",
                    "lab_draw.png": "#p-draw",
                    "lab_weights.png": "#p-weights",
                    "lab_inside.png": "#p-inside",
                }
                page.click("#b-explain")
                page.frame_locator("#stepper").locator("#mg-end").click()
                time.sleep(0.5)
                shots["lab_explain.png"] = "#p-explain"

                def shoot(name, selector):
                    # From the top of the whole page, so the sticky controls never cover a panel.
                    page.evaluate("window.scrollTo(0, 0)")
                    clip = page.locator(selector).bounding_box()
                    if selector == "body":
                        clip = {"x": 0, "y": 0, "width": 1280, "height": 900}
                    page.screenshot(path=str(args.out / name), full_page=True, clip=clip)

                for name, sel in shots.items():
                    shoot(name, sel)
                browser.close()
                for name in shots:
                    print(args.out / name)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
