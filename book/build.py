"""Build the minit5 book: execute every chapter, then render HTML, with no network at all.

    .venv/bin/python book/build.py          # what `make book` runs

Steps, each of which stops the build with a non-zero exit when it fails:

1. MathJax 3 from the npm registry. `npm install mathjax@<pinned>` into book/_build/npm/ (reused
   while the pinned version is there). The site serves it from its own _static/ folder; no page
   loads anything from a CDN.
2. Stage the sources. Jupyter Book 1.x only builds files under its source folder, and the
   chapters live in chapters/ at the repository root, so this script copies the book's
   configuration (book/_config.yml, _toc.yml, references.bib, the back matter's pages,
   _static/, and the local Sphinx extensions in _ext/) and chapters/ into book/_build/src/,
   which has the same layout the toc names (`chapters/01_text_to_text`). Copies, not links: a
   chapter that writes files while it runs writes them into the staging copy, never into
   chapters/. Edit the originals, never book/_build/src/, which is wiped on every build.
3. Warm matplotlib's font cache, so that its one-time "building the font cache" message does not
   land on a chapter's stderr (stderr output is a warning, and warnings fail the build).
4. `jupyter-book build` with every chapter executed (execute_notebooks: force), warnings as
   errors (-W) and --keep-going, so one run reports every problem before it fails.
5. Check the built site is offline: no <script>, <link>, <img> or <iframe> that loads from
   another host, and no CSS url() or @import that does.

The site is book/_build/html/index.html. `make book-check` then opens it in headless Chromium.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
CHAPTERS = ROOT / "chapters"
BUILD = BOOK / "_build"
SRC = BUILD / "src"
NPM = BUILD / "npm"
HTML = BUILD / "html"

MATHJAX_VERSION = "3.2.2"  # the last MathJax 3 release; _config.yml points at its tex-chtml.js
# The parts of MathJax's es5/ folder that tex-chtml.js loads: the combined TeX+CHTML component,
# the TeX extensions it may load on demand, the CHTML fonts, and the menu's accessibility
# modules (which load sre/ when a reader turns speech on).
MATHJAX_PARTS = ["tex-chtml.js", "input", "output/chtml", "output/chtml.js", "a11y", "sre", "ui",
                 "adaptors"]
BOOK_FILES = ["_config.yml", "_toc.yml", "references.bib", "bibliography.md", "glossary.md",
              "genindex.md", "_static", "_ext"]
# html_extra_path in _config.yml names this folder: its _static/mathjax/ is merged into the
# site's _static/. (Not the source's _static/ itself: Jupyter Book adds every .js file found
# there to every page, which for MathJax's hundreds of modules is wrong.)
EXTRA = "_extra"


def log(message: str) -> None:
    print(f"[book] {message}", flush=True)


def fail(message: str) -> None:
    print(f"[book] FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


def run(cmd: list[str], **kwargs) -> None:
    log("$ " + " ".join(str(c) for c in cmd))
    result = subprocess.run(cmd, **kwargs)
    if result.returncode != 0:
        fail(f"command exited with status {result.returncode}: {' '.join(map(str, cmd))}")


def ensure_mathjax() -> Path:
    """MathJax's es5/ folder from the npm registry, cached in book/_build/npm/."""
    package = NPM / "node_modules" / "mathjax"
    manifest = package / "package.json"
    if manifest.exists() and json.loads(manifest.read_text())["version"] == MATHJAX_VERSION:
        log(f"MathJax {MATHJAX_VERSION}: cached in {package.relative_to(ROOT)}")
        return package / "es5"
    npm = shutil.which("npm")
    if npm is None:
        fail("npm not found. The book serves MathJax itself and installs it from the npm "
             "registry at build time: install Node.js and npm (Debian: apt-get install -y npm).")
    NPM.mkdir(parents=True, exist_ok=True)
    run([npm, "install", "--prefix", str(NPM), "--no-save", "--no-package-lock", "--no-audit",
         "--no-fund", "--loglevel=error", f"mathjax@{MATHJAX_VERSION}"])
    if not (package / "es5" / "tex-chtml.js").exists():
        fail(f"npm finished but {package / 'es5' / 'tex-chtml.js'} is missing")
    return package / "es5"


def stage(mathjax_es5: Path) -> None:
    """Lay out book/_build/src/: the book's config, the chapters, and MathJax."""
    if SRC.exists():
        shutil.rmtree(SRC)
    SRC.mkdir(parents=True)
    for name in BOOK_FILES:
        source = BOOK / name
        if source.is_dir():
            shutil.copytree(source, SRC / name)
        elif source.exists():
            shutil.copy2(source, SRC / name)
        else:
            fail(f"{source.relative_to(ROOT)} is missing")
    if not CHAPTERS.is_dir():
        fail(f"{CHAPTERS} is missing")
    shutil.copytree(CHAPTERS, SRC / "chapters",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb",
                                                  "_build"))
    target = SRC / EXTRA / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        source = mathjax_es5 / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
    chapters = sorted(p.name for p in (SRC / "chapters").glob("*.md"))
    log(f"staged {len(chapters)} chapter file(s) into {SRC.relative_to(ROOT)}: "
        + ", ".join(chapters))


def warm_matplotlib() -> None:
    run([sys.executable, "-c", "import matplotlib; matplotlib.use('Agg'); "
         "import matplotlib.pyplot as plt; plt.figure(); plt.text(0, 0, 'x'); "
         "plt.savefig(__import__('io').BytesIO())"], stdout=subprocess.DEVNULL)


def run_mapping_paths(cmd: list[str], env: dict[str, str]) -> None:
    """Run a command, printing its output with staged paths turned back into the originals.

    A warning about book/_build/src/chapters/01_x.md:42 is about chapters/01_x.md:42: the
    staged files are byte-for-byte copies, so line numbers hold.
    """
    log("$ " + " ".join(cmd))
    mapping = [(str(SRC / "chapters"), str(CHAPTERS)), (str(SRC), str(BOOK))]
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as proc:
        for line in proc.stdout:
            for staged, original in mapping:
                line = line.replace(staged, original)
            sys.stdout.write(line)
        sys.stdout.flush()
    if proc.returncode != 0:
        fail(f"jupyter-book exited with status {proc.returncode}: see the warnings above")


def jupyter_book(env: dict[str, str]) -> None:
    # A clean build every time: no page, image or static file left over from an older one.
    for stale in (HTML, BUILD / ".doctrees", BUILD / "jupyter_execute", BUILD / ".jupyter_cache"):
        if stale.exists():
            shutil.rmtree(stale)
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb) if jb.exists() else "jupyter-book", "build", str(SRC),
           "--path-output", str(BOOK), "--builder", "html", "--all",
           "--warningiserror", "--keep-going"]
    run_mapping_paths(cmd, env)


# A tag that makes the browser fetch something: its attribute names what.
_FETCHING_TAGS = re.compile(r"<(script|link|img|iframe|source|embed)\b[^>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""\b(src|href)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
_LINK_REL = re.compile(r"""\brel\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
# <link rel=...> values that only name a page, never load one.
_NAVIGATION_RELS = {"canonical", "alternate", "author", "help", "license", "next", "prev",
                    "search", "index", "top", "up", "bookmark", "first", "last"}
_CSS_REMOTE = re.compile(r"""(url\(\s*["']?|@import\s+["'])(https?:)?//""", re.IGNORECASE)


def remote_assets(html_dir: Path) -> list[str]:
    """Every place the site would fetch something from another host."""
    problems = []
    for page in sorted(html_dir.rglob("*.html")):
        text = page.read_text(encoding="utf-8", errors="replace")
        for tag in _FETCHING_TAGS.finditer(text):
            if tag.group(1).lower() == "link":
                rel = _LINK_REL.search(tag.group(0))
                if rel and set(rel.group(1).lower().split()) <= _NAVIGATION_RELS:
                    continue
            for _, url in _ATTRIBUTE.findall(tag.group(0)):
                if re.match(r"(?i)^(https?:)?//", url.strip()):
                    problems.append(f"{page.relative_to(html_dir)}: {tag.group(0)[:160]}")
    for sheet in sorted(html_dir.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        for match in _CSS_REMOTE.finditer(text):
            snippet = text[match.start():match.start() + 120]
            problems.append(f"{sheet.relative_to(html_dir)}: {snippet}")
    return problems


def check_site() -> None:
    index = HTML / "index.html"
    if not index.exists():
        fail(f"{index} was not written")
    problems = remote_assets(HTML)
    if problems:
        fail("the built site loads assets from other hosts (it must work offline):\n  "
             + "\n  ".join(problems))
    mathjax = HTML / "_static" / "mathjax" / "tex-chtml.js"
    if not mathjax.exists():
        fail(f"{mathjax} is missing: the pages with math would not render")
    pages = sorted(p.relative_to(HTML).as_posix() for p in (HTML / "chapters").glob("*.html"))
    log(f"site checked: {len(pages)} chapter page(s), no remote assets, MathJax served locally")


def main() -> int:
    start = time.perf_counter()
    env = dict(os.environ)
    # Chapters run in the book configuration on the CPU unless the caller says otherwise.
    env.setdefault("MINIT5_DEVICE", "cpu")
    mathjax_es5 = ensure_mathjax()
    stage(mathjax_es5)
    warm_matplotlib()
    jupyter_book(env)
    check_site()
    log(f"done in {time.perf_counter() - start:.0f} s: {(HTML / 'index.html').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
