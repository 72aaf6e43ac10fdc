"""The search page: one box across cases and alert groups, showing only what the searcher may know about."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render

from cases.forms.case_list import SearchForm
from cases.selectors import search as selectors
from cases.views.helpers import staff_required

PAGE_SIZE = 50
GROUP_LIMIT = 20


@staff_required
def search(request):
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    page = Paginator(selectors.search_cases(request.user, query), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/search/results.html", {
        "form": form,
        "query": query,
        "page": page,
        "results": [(case, selectors.matched_in(case)) for case in page.object_list],
        "groups": list(selectors.search_alert_groups(request.user, query)[:GROUP_LIMIT]) if query else [],
        "page_query": urlencode({"q": query}) if query else "",
        "full_text": selectors.uses_full_text(),
    })
