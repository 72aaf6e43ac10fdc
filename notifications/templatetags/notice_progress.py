"""The breach notices' fan-out on a case page, rendered from its own selector so the page view stays as it is."""

from django import template

from notifications import selectors

register = template.Library()


@register.inclusion_tag("notifications/partials/notice_progress.html", takes_context=True)
def notice_progress(context, case):
    """Show delivered / pending / dead breach notices per channel (nothing before the first is written)."""
    return selectors.notice_progress_context(case, context["request"].user)
