"""A Sphinx extension of the course's own: each page loads each script once.

sphinx-thebe 0.3 adds its one-line configuration script (``const THEBE_JS_URL = ...``)
when the reading starts; Sphinx 7.4 then writes it into every page twice (once with the
file name ``None``, once with ``''``, so Sphinx does not see that they are the same), and
the second copy fails in the browser ("Identifier 'THEBE_JS_URL' has already been
declared"). This drops repeats from a page's script list, keeping the first.
"""

from __future__ import annotations


def _key(script) -> tuple:
    """What makes two scripts the same: their file (empty for an inline one) and attributes (body included)."""
    if isinstance(script, str):  # older Sphinx: a script is its file name
        return (script,)
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", None) or ""  # None and "" both mean an inline script
    return (str(filename), tuple(sorted((k, str(v)) for k, v in attributes.items())))


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    # After the other extensions (default priority 500) have added their scripts.
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
