"""The customer questions panel of a case page, rendered from its own selector so the page view stays as it is."""

from django import template

from cases.selectors import questions as question_selectors

register = template.Library()


@register.inclusion_tag("cases/partials/customer_questions.html", takes_context=True)
def case_questions_panel(context, case):
    return {**question_selectors.case_questions_panel(context["request"].user, case), "csrf_token": context.get("csrf_token")}
