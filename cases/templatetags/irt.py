"""Template filters for durations and badges."""

from datetime import timedelta

from django import template
from django.utils import timezone

from irt.markdown import render_markdown
from irt.sizes import byte_size

register = template.Library()


register.filter("bytes", byte_size)


@register.filter
def duration(value: timedelta | None) -> str:
    """Render a duration as '2 d 4 h', '3 h 12 min' or '8 min'; a dash when unknown."""
    if value is None:
        return "—"
    seconds = int(abs(value.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes} min"
    else:
        text = f"{minutes} min"
    return f"-{text}" if value.total_seconds() < 0 else text


@register.filter
def time_left(due) -> str:
    """Render how long until ``due``, or how long it is overdue."""
    if due is None:
        return ""
    delta = due - timezone.now()
    if delta.total_seconds() < 0:
        return f"overdue by {duration(-delta)}"
    return f"{duration(delta)} left"


@register.filter
def is_past(moment) -> bool:
    return moment is not None and moment < timezone.now()


@register.filter
def markdown(text: str):
    """Render customer-visible Markdown safely (see irt.markdown)."""
    return render_markdown(text)
