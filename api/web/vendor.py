"""Front-end libraries installed by `npm ci` (package.json, package-lock.json) and served by the app
itself from node_modules: only the distribution folders named here, nothing else of node_modules."""
from __future__ import annotations

from flask import abort, send_from_directory

from engine.settings import PROJECT_ROOT

from .blueprint import web

NODE_MODULES = PROJECT_ROOT / "node_modules"
PACKAGES = {
    "htmx": NODE_MODULES / "htmx.org" / "dist",
    "bpmn-js": NODE_MODULES / "bpmn-js" / "dist",
    "chart.js": NODE_MODULES / "chart.js" / "dist",
    "dmn-js": NODE_MODULES / "dmn-js" / "dist",
}


@web.get("/static/vendor/<package>/<path:filename>")
def vendor(package: str, filename: str):  # type: ignore[no-untyped-def]
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    return send_from_directory(folder, filename, max_age=3600)
