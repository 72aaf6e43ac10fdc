"""Page-numbered lists: ``?page=N&page_size=M`` (at most 200), ``{"count", "next", "previous", "results"}``."""

from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination


class PageQuery(serializers.Serializer):
    page = serializers.IntegerField(required=False, min_value=1, max_value=10**6)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=200)


class Pagination(PageNumberPagination):
    """Refuses (400) a page or page size that is not a whole number in range, instead of guessing."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        for name in ("page", "page_size"):
            if len(request.query_params.getlist(name)) > 1:
                raise serializers.ValidationError({name: ["Give it once."]})
        PageQuery(data=request.query_params).is_valid(raise_exception=True)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {"page": {"minimum": 1, "maximum": 10**6}, "page_size": {"minimum": 1, "maximum": self.max_page_size}}
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
