"""Widgets for the busiest forms: a ``<select>`` of hundreds of rows written without a template per option."""

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe


class FlatSelect(forms.Select):
    """A ``<select>`` of flat choices (no groups) whose options are written by Python, not one template each.

    Django's ``Select`` renders ``select_option.html`` once per option, so a picker of every
    organisation and staff user was most of the case page's time, and the case list's filters most
    of its own (issue 18). The HTML is byte for byte Django's ``select.html``: the attributes the
    form gives, in order (``True`` a bare name, ``False`` left out), each option on its own line, the
    first option of the current value ``selected``.
    """

    def render(self, name, value, attrs=None, renderer=None):
        chosen = {str(item) for item in self.format_value(value)}
        options, has_selected = [], False
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                raise TypeError("FlatSelect takes flat choices only; use forms.Select for groups.")
            key = "" if option_value is None else str(option_value)
            selected = not has_selected and key in chosen  # as ``Select.optgroups``: the first match only
            has_selected = has_selected or selected
            options.append(f'\n  <option value="{conditional_escape(key)}"{" selected" if selected else ""}>{conditional_escape(label)}</option>\n')
        written = "".join(f" {conditional_escape(attr)}" if given is True else f' {conditional_escape(attr)}="{conditional_escape(str(given))}"'
                          for attr, given in self.build_attrs(self.attrs, attrs).items() if given is not False)
        head = f'<select name="{conditional_escape(name)}"{written}>'
        return mark_safe(head + "".join(options) + "\n</select>")  # noqa: S308 - every part escaped above
