"""Template filters for forms shown more than once on a page, so every field keeps an id of its own."""

import copy

from django import template
from django.utils.text import slugify

register = template.Library()


@register.filter
def ids_from(form, text: str):
    """Return a copy of ``form`` whose field ids start with a slug of ``text`` (say, the form's action URL).

    The task and the repair-item forms both have a "title"; a clock's delay form repeats per clock.
    Field names stay the same, so the view that receives the POST is unchanged.
    """
    if form is None:
        return form
    clone = copy.copy(form)
    clone.auto_id = f"{slugify(text.replace('/', ' '))}-%s"
    clone._bound_fields_cache = {}
    return clone
