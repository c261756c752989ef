"""Offer every executed chapter as an `.ipynb` download, offline.

sphinx-book-theme only adds the ".ipynb" entry to a page's download menu when a launch service
(Binder, JupyterHub, Colab, ...) is configured, and the book configures none: each would send
the reader online. This extension does the part that matters locally: for every page that
MyST-NB executed, it copies the executed notebook (`_build/jupyter_execute/<page>.ipynb`, with
its outputs) into the site's `_sources/` and tells the theme about it, so the download menu
holds `.md` (the text notebook), `.ipynb` (the same chapter with its outputs) and `.pdf`.
It runs before the theme builds the header buttons (priority 500 < the theme's 501).
"""
from __future__ import annotations

import shutil
from pathlib import Path


def add_notebook_download(app, pagename, templatename, context, doctree):
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.is_file():
        return                                   # not a notebook page (the bibliography, ...)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(executed, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", add_notebook_download, priority=500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
