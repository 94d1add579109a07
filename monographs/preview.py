"""The Markdown editor's live preview: for people who may edit revisions, and never more than a moment's work.

markdownx's own view answers anyone who has a CSRF token (the log-in page hands one out), and rendering is
the most expensive thing drugref does, so this one is routed before markdownx's URLs (drugref/urls.py).
Text beyond drugref's limits (monographs/bounds.py) is not rendered: the preview says why instead, as the
form will when it is saved.
"""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.utils.html import format_html
from markdownx.views import MarkdownifyView

from .bounds import BODY_LIMIT, markdown_problem
from .rendering import render_markdown


class EditorMarkdownifyView(PermissionRequiredMixin, MarkdownifyView):
    permission_required = "monographs.change_revision"
    raise_exception = True
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        text = request.POST.get("content", "")
        problem = markdown_problem(text, BODY_LIMIT)
        if problem:
            return HttpResponse(
                format_html('<aside class="warning"><p>Not previewed: the text {}</p></aside>', problem)
            )
        return HttpResponse(render_markdown(text))
