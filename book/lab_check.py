"""`make lab-check`: start JupyterLab headless, open a chapter as a notebook, stop it.

What `make lab` promises, checked the way a reader's browser would ask for it:
1. JupyterLab starts from this checkout's .venv and serves /lab.
2. A chapter (`chapters/*.md`, a MyST text notebook) opens through jupytext's contents
   manager as a *notebook* (`/api/contents/...?type=notebook`): code and markdown cells, not
   a text file.
3. The settings `make lab` installs (book/lab/overrides.json) are in force: Markdown files open
   with the "Jupytext Notebook" viewer by default.
Only the loopback address is used; the server is stopped whatever happens. As root (CI) the
server needs --allow-root, which this script adds.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = "chapters/01_text_to_text.md"
DOCMANAGER = "@jupyterlab/docmanager-extension:plugin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str):
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


def main() -> int:
    port, token = free_port(), secrets.token_hex(16)
    jupyter = Path(sys.executable).with_name("jupyter")
    server = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={ROOT}", f"--IdentityProvider.token={token}",
         "--ServerApp.open_browser=False"]
        + (["--allow-root"] if os.geteuid() == 0 else []),   # CI runs as root
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):                     # up to a minute to start
            try:
                get(f"{base}/api/status", token)
                break
            except OSError:
                if server.poll() is not None:
                    raise SystemExit(f"lab-check: JupyterLab exited early:\n{server.stdout.read()}")
                time.sleep(0.5)
        else:
            raise SystemExit("lab-check: JupyterLab did not answer within a minute")
        status, page = get(f"{base}/lab", token)
        assert status == 200 and "JupyterLab" in page, "lab-check: /lab did not serve JupyterLab"
        _, body = get(f"{base}/api/contents/{CHAPTER}?type=notebook&content=1", token)
        model = json.loads(body)
        cells = model["content"]["cells"]
        kinds = {cell["cell_type"] for cell in cells}
        assert model["type"] == "notebook" and {"code", "markdown"} <= kinds, (
            f"lab-check: {CHAPTER} did not open as a notebook (type {model['type']}, "
            f"cells {sorted(kinds)}); is jupytext installed in .venv?")
        _, body = get(f"{base}/lab/api/settings/{DOCMANAGER}", token)
        plugin = json.loads(body)           # overrides.json changes the schema's defaults
        default = plugin["schema"]["properties"]["defaultViewers"].get("default", {})
        viewers = plugin["settings"].get("defaultViewers", default)
        assert viewers.get("markdown") == "Jupytext Notebook", (
            f"lab-check: Markdown files do not open as notebooks by default ({viewers}); "
            "run `make lab` once to install book/lab/overrides.json")
        print(f"lab-check: JupyterLab served /lab; {CHAPTER} opened as a notebook with "
              f"{len(cells)} cells ({sum(c['cell_type'] == 'code' for c in cells)} code); "
              "Markdown opens with the Jupytext Notebook viewer")
        return 0
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    sys.exit(main())
