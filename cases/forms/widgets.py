"""Widgets for the busiest forms: a ``<select>`` of hundreds of rows written without a template per option."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe


class FlatSelect(forms.Select):
    """A ``<select>`` of flat choices (no groups) whose options are written by Python, not one template each.

    Django's ``Select`` renders ``select_option.html`` once per option, so a picker of every
    organisation and staff user was most of the case page's time. The HTML is the same: the
    attributes the form gives (``id``, ``required``), one ``<option>`` per choice, the current value
    ``selected``.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        options = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                raise TypeError("FlatSelect takes flat choices only; use forms.Select for groups.")
            key = "" if option_value is None else str(option_value)
            selected = " selected" if key in chosen else ""
            options.append(f'<option value="{conditional_escape(key)}"{selected}>{conditional_escape(label)}</option>')
        head = format_html("<select name=\"{}\"{}>", name, flatatt(self.build_attrs(self.attrs, attrs)))
        return mark_safe(head + "".join(options) + "</select>")  # noqa: S308 - every part escaped above
