"""Render a writer's Markdown as readers will see it, for the preview under every Markdown field (staff)."""

from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from cases.forms.cases import MarkdownPreviewForm
from cases.views.helpers import staff_required
from irt.markdown import render_markdown


@staff_required
@require_POST
def markdown_preview(request):
    """Answer with the HTML fragment the text renders to (sanitised by ``irt.markdown``); 400 when too long."""
    form = MarkdownPreviewForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("The text is too long to preview.", content_type="text/plain; charset=utf-8")
    return HttpResponse(render_markdown(form.cleaned_data["text"]), content_type="text/html; charset=utf-8")
