"""Open the built book in headless Chromium and check that it renders, with no network.

    .venv/bin/python book/check_render.py             # what `make book-check` runs
    .venv/bin/python book/check_render.py --page chapters/01_text_to_text.html

Needs Debian's chromium at /usr/bin/chromium (book/ensure_chromium.sh installs it) and a site
built by book/build.py in book/_build/html/. It installs nothing itself.

The site is served from 127.0.0.1 by a small HTTP server in this process. Chromium is told that
every other host name does not resolve, so a page that still needed a CDN would fail here. For
every chapter page Chromium runs the page's scripts (MathJax included) and dumps the DOM, and
this script checks:

- every piece of math Sphinx wrote (`class="math"`) was typeset by MathJax into an
  `<mjx-container>`, and none of it is a TeX error (`<mjx-merror>`);
- every `<img>` points at a non-empty file of the site itself;
- nothing the page asked for was missing from the site (no 404s);
- the page's download menu offers the chapter as `.ipynb`, and that file is a notebook of the
  site itself whose code cells carry their outputs (book/_ext/notebook_download.py).

Some chapter page must have both typeset math and a figure, so the check cannot pass vacuously;
the first such page is the one photographed (or the page named by --page). A screenshot of the
whole page, and the same cut into screen-sized tiles, are saved under book/_build/screenshots/
and their paths printed.
"""
from __future__ import annotations

import argparse
import functools
import html.parser
import http.server
import json
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

BOOK = Path(__file__).resolve().parent
HTML = BOOK / "_build" / "html"
SHOTS = BOOK / "_build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_S = 120
# Screenshots: a window tall enough for a whole chapter, cut into tiles a person can look at.
SHOT_WIDTH, SHOT_HEIGHT, TILE_HEIGHT = 1280, 16000, 1600
# Requests a browser makes on its own, whether or not a page asks.
_BROWSER_OWN = {"/favicon.ico"}


def fail(message: str) -> None:
    print(f"[book-check] FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site and remembers what was asked for and what was missing."""

    requested: list[str] = []
    missing: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def send_error(self, code, message=None, explain=None):
        if code == 404:
            _Handler.missing.append(urlsplit(self.path).path)
        super().send_error(code, message, explain)

    def do_GET(self):
        _Handler.requested.append(urlsplit(self.path).path)
        super().do_GET()


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def chromium(url: str, *extra: str) -> str:
    """Run headless Chromium on one URL; its stdout (the DOM, for --dump-dom)."""
    with tempfile.TemporaryDirectory(prefix="minit5-chromium-") as profile:
        cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-extensions", "--disable-default-apps",
               "--disable-dev-shm-usage", "--mute-audio", "--hide-scrollbars",
               f"--user-data-dir={profile}",
               # Only the local server resolves: anything fetched from elsewhere fails.
               "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
               "--virtual-time-budget=10000", *extra, url]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            fail(f"chromium did not finish within {TIMEOUT_S} s on {url}")
    if result.returncode != 0:
        fail(f"chromium exited with status {result.returncode} on {url}:\n{result.stderr[-3000:]}")
    return result.stdout


class _PageScan(html.parser.HTMLParser):
    """Counts what the checks need in a page (static HTML or Chromium's DOM)."""

    def __init__(self):
        super().__init__()
        self.math = 0            # elements Sphinx marked as math
        self.mjx = 0             # <mjx-container>: math MathJax typeset
        self.merror = 0          # <mjx-merror>: TeX MathJax could not parse
        self.images: list[str] = []
        self.notebook_links: list[str] = []   # the download menu's ".ipynb" entry

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag in ("span", "div") and "math" in classes:
            self.math += 1
        elif tag == "mjx-container":
            self.mjx += 1
        elif tag == "mjx-merror":
            self.merror += 1
        elif tag == "img" and attrs.get("src"):
            self.images.append(attrs["src"])
        elif tag == "a" and "btn-download-notebook-button" in classes and attrs.get("href"):
            self.notebook_links.append(attrs["href"])


def scan(text: str) -> _PageScan:
    parser = _PageScan()
    parser.feed(text)
    return parser


def local_file(base_url: str, page_url: str, src: str) -> Path | None:
    """The file under the site a link (<img src>, <a href>) points at; None for data: URLs."""
    if src.startswith("data:"):
        return None
    url = urljoin(page_url, src)
    if not url.startswith(base_url):
        fail(f"{page_url}: {src!r} is not served by the book itself")
    return HTML / unquote(urlsplit(url).path.lstrip("/"))


def check_page(base_url: str, relpath: str) -> _PageScan:
    page_url = base_url + relpath
    static = scan((HTML / relpath).read_text(encoding="utf-8"))
    dom = scan(chromium(page_url, "--dump-dom", f"--window-size={SHOT_WIDTH},{TILE_HEIGHT}"))
    problems = []
    if static.math and dom.mjx < static.math:
        problems.append(f"{static.math} math element(s) but only {dom.mjx} typeset by MathJax "
                        "(<mjx-container>): did MathJax load?")
    if dom.merror:
        problems.append(f"{dom.merror} TeX error(s) (<mjx-merror>) in the typeset math")
    for src in dom.images:
        path = local_file(base_url, page_url, src)
        if path is not None and (not path.is_file() or path.stat().st_size == 0):
            problems.append(f"<img src={src!r}>: {path} is missing or empty")
    problems += notebook_download_problems(base_url, page_url, static.notebook_links)
    if problems:
        fail(f"{relpath}:\n  " + "\n  ".join(problems))
    print(f"[book-check] {relpath}: {dom.mjx} math typeset, {len(dom.images)} image(s) present, "
          ".ipynb download present")
    return dom


def notebook_download_problems(base_url: str, page_url: str, links: list[str]) -> list[str]:
    """What is wrong with a page's .ipynb download (nothing: an empty list)."""
    if not links:
        return ["no .ipynb entry in the download menu"]
    path = local_file(base_url, page_url, links[0])
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f".ipynb download {links[0]!r}: {path} is not a readable notebook ({e})"]
    code = [cell for cell in notebook.get("cells", []) if cell.get("cell_type") == "code"]
    if notebook.get("nbformat") != 4 or (code and not any(cell.get("outputs") for cell in code)):
        return [f".ipynb download {path}: not an executed nbformat-4 notebook"]
    return []


def screenshot(base_url: str, relpath: str) -> list[Path]:
    """The whole page in one tall PNG, then cut into screen-sized tiles that have content.

    One tall window rather than one shot per anchor: headless Chromium paints a page scrolled
    to a #fragment as blank. The tall PNG's empty rows (below the text, above the footer) stay;
    tiles with nothing in the text column are not written.
    """
    from PIL import Image  # Pillow comes with matplotlib, a dependency of minit5

    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = Path(relpath).with_suffix("").as_posix().replace("/", "__")
    for old in SHOTS.glob(f"{stem}*.png"):
        old.unlink()
    full = SHOTS / f"{stem}.png"
    chromium(base_url + relpath, f"--screenshot={full}",
             f"--window-size={SHOT_WIDTH},{SHOT_HEIGHT}")
    if not full.is_file() or full.stat().st_size == 0:
        fail(f"chromium wrote no screenshot to {full}")
    paths = [full]
    with Image.open(full) as image:
        gray = image.convert("L")
        # The text column, clear of the two sidebars.
        column = (SHOT_WIDTH // 4, 0, SHOT_WIDTH * 3 // 4)
        for k, top in enumerate(range(0, image.height, TILE_HEIGHT)):
            box = (column[0], top, column[2], min(top + TILE_HEIGHT, image.height))
            if gray.crop(box).getextrema()[0] >= 240:      # nothing darker than near-white
                continue
            tile = SHOTS / f"{stem}-{k + 1:02d}.png"
            image.crop((0, top, SHOT_WIDTH, box[3])).save(tile)
            paths.append(tile)
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page", help="page to screenshot, relative to book/_build/html "
                        "(default: the first chapter page with both math and a figure)")
    args = parser.parse_args()

    if not CHROMIUM.exists():
        fail(f"{CHROMIUM} not found: run `bash book/ensure_chromium.sh` (or apt-get install "
             "chromium) first")
    if not (HTML / "index.html").exists():
        fail(f"{HTML / 'index.html'} not found: build the book first (`make book`)")
    pages = sorted(p.relative_to(HTML).as_posix() for p in (HTML / "chapters").glob("*.html"))
    if not pages:
        fail(f"no chapter pages in {HTML / 'chapters'}")

    server, base_url = serve(HTML)
    try:
        results = {page: check_page(base_url, page) for page in pages}
        with_both = [p for p, r in results.items()
                     if r.mjx and any("_images/" in src for src in r.images)]
        if not with_both:
            fail("no chapter page has both typeset math and a figure: the check would prove "
                 "nothing")
        target = args.page or with_both[0]
        if target not in results:
            if not (HTML / target).is_file():
                fail(f"--page {target}: no such page in {HTML}")
            results[target] = check_page(base_url, target)

        shots = screenshot(base_url, target)

        missing = sorted(set(_Handler.missing) - _BROWSER_OWN)
        if missing:
            fail("pages asked for files the site does not have:\n  " + "\n  ".join(missing))
        fonts = [p for p in _Handler.requested if re.search(r"/mathjax/.*\.woff", p)]
        print(f"[book-check] {len(pages)} chapter page(s) rendered offline; "
              f"{len(set(fonts))} MathJax font file(s) served locally")
        for path in shots:
            print(f"[book-check] screenshot: {path}")
    finally:
        server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
