"""Readable tables in nbgrader's feedback pages.

nbgrader's feedback template puts Bootstrap 3 after the notebook CSS, and Bootstrap sets every ``td``/``th``
padding to 0: a datasheet (register map) in a feedback page reads as one run of text. :class:`FeedbackStyle`
is an nbconvert preprocessor that appends a short style sheet to the page's inlined CSS. ``nbgrader_config.py``
adds it after nbgrader's own ``CSSHTMLHeaderPreprocessor`` (which resets the inlined CSS), so
``daqlab course feedback``, ``nbgrader generate_feedback`` and the formgrader's button all use it.
"""

from __future__ import annotations

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

CSS = """
/* DAQ Lab: tables in feedback pages (datasheets, check results) with padding, rules and a header row */
.rendered_html table, .text_cell_render table, .output_html table {
  border-collapse: collapse; margin: 0.6em 0; font-size: 13px; width: auto;
}
.rendered_html th, .rendered_html td, .text_cell_render th, .text_cell_render td,
.output_html th, .output_html td {
  padding: 4px 10px; border: 1px solid #cbd5e1; text-align: left; vertical-align: top;
}
.rendered_html thead th, .text_cell_render thead th, .output_html thead th { background: #f1f5f9; font-weight: 600; }
.rendered_html tbody tr:nth-child(even) td, .output_html tbody tr:nth-child(even) td { background: #f8fafc; }
"""


class FeedbackStyle(Preprocessor):
    """Append :data:`CSS` to ``resources["inlining"]["css"]`` (the style sheets nbgrader inlines in the page)."""

    enabled = Bool(True, help="on wherever it is listed (nbconvert registers listed preprocessors disabled)").tag(
        config=True)

    def preprocess(self, nb, resources):
        inlining = resources.setdefault("inlining", {})
        inlining["css"] = [*inlining.get("css", []), CSS]
        return nb, resources
