"""The metrics page (staff): response times, notices, repairs and alerts, as SVG charts with their tables and as CSV."""

import csv

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from cases.forms.metrics import MetricsFilterForm
from cases.selectors import metrics as selectors
from cases.views.helpers import staff_required

# Geometry of the horizontal bar charts, in SVG user units (the SVG scales to its column).
CHART_WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 70
BAR_HEIGHT = 22
BAR_GAP = 8
DRILL_DOWN_PAGE = 100


def bar_chart(figure: selectors.Figure) -> dict:
    """Return the bars of ``figure``'s chart column, scaled to the widest, for ``partials/bar_chart.svg``."""
    plotted = [row for row in figure.rows if row.values.get(figure.chart) is not None]
    widest = max((row.values[figure.chart] for row in plotted), default=0) or 1
    span = CHART_WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = []
    for index, row in enumerate(plotted):
        value = row.values[figure.chart]
        bars.append({
            "label": row.label,
            "value": value,
            "y": index * (BAR_HEIGHT + BAR_GAP),
            "text_y": index * (BAR_HEIGHT + BAR_GAP) + BAR_HEIGHT * 0.7,
            "width": round(span * value / widest, 1),
            "value_x": LABEL_WIDTH + round(span * value / widest, 1) + 6,
        })
    return {
        "bars": bars,
        "width": CHART_WIDTH,
        "height": max(len(bars), 1) * (BAR_HEIGHT + BAR_GAP),
        "label_width": LABEL_WIDTH,
        "bar_x": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "unit": figure.unit,
        "column": dict(figure.columns)[figure.chart],
    }


def table_rows(figure: selectors.Figure) -> list[dict]:
    """Return the figure's rows with their cells in column order (templates cannot index by a variable)."""
    return [{"row": row, "cells": [row.values.get(column) for column, _ in figure.columns]} for row in figure.rows]


def _filters(request) -> tuple[MetricsFilterForm, selectors.Period, str]:
    form = MetricsFilterForm(request.GET or None)
    period, dimension = form.period_and_dimension()
    return form, period, dimension


@staff_required
@require_safe
def metrics_page(request):
    form, period, dimension = _filters(request)
    result = selectors.metrics(request.user, period=period, dimension=dimension)
    figures = [{"figure": figure, "chart": bar_chart(figure), "table": table_rows(figure)} for figure in selectors.all_figures(result)]
    query = {"since": period.since.isoformat(), "until": period.until.isoformat(), "by": dimension}
    return render(request, "cases/metrics/metrics.html", {
        "form": form, "period": period, "dimension": selectors.DIMENSIONS[dimension], "cases": result["cases"],
        "figures": figures, "query": "&".join(f"{key}={value}" for key, value in query.items()),
    })


@staff_required
@require_safe
def metrics_csv(request):
    """Every row of every figure, one line each, with the period it covers."""
    _, period, dimension = _filters(request)
    result = selectors.metrics(request.user, period=period, dimension=dimension)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="irt-metrics-{period.since}-{period.until}.csv"'
    writer = csv.writer(response)
    writer.writerow(["figure", "group_by", "group", "label", "value", "amount", "since", "until"])
    for figure in selectors.all_figures(result):
        for row in figure.rows:
            for column, _ in figure.columns:
                writer.writerow([figure.key, dimension, row.group, row.label, column, _csv_number(row.values.get(column)),
                                 period.since, period.until])
    return response


def _csv_number(value):
    return "" if value is None else round(value, 2) if isinstance(value, float) else value


@staff_required
@require_safe
def metrics_cases(request):
    """The cases behind one row of one figure, a page at a time."""
    _, period, dimension = _filters(request)
    found = selectors.row_behind(request.user, period=period, dimension=dimension,
                                 figure=request.GET.get("figure", ""), group=request.GET.get("group", ""))
    if found is None:
        raise Http404("No such figure or group.")
    figure, row = found
    page = Paginator(sorted(row.case_ids), DRILL_DOWN_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/metrics/cases.html", {
        "figure": figure, "row": row, "period": period, "dimension": selectors.DIMENSIONS[dimension],
        "page": page, "cases": selectors.cases_by_id(request.user, list(page.object_list)), "query": query.urlencode(),
    })
