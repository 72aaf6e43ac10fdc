"""The alert panel of a case page, rendered from its own selector so the page view stays as it is."""

from django import template

from cases.selectors import alerts as selectors_alerts

register = template.Library()


@register.inclusion_tag("cases/alerts/case_panel.html", takes_context=True)
def case_alert_panel(context, case):
    return selectors_alerts.case_alert_panel(context["request"].user, case)
