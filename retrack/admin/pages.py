"""List and change pages fit for tables of millions of rows."""

from django.core.paginator import Paginator
from django.http import HttpRequest
from django.utils.functional import cached_property


def fieldset_fields(fieldsets) -> list[str]:
    """Every field named in `fieldsets`, in order: the read-only fields of a view-only page."""
    return [field for _, options in fieldsets for field in options["fields"]]


def newest_first_ordering(request: HttpRequest) -> list[str]:
    """Newest first, along the index the request's filters use.

    Filtered by program or partner, the (program|partner, created_at) index serves both the
    filter and `ORDER BY created_at DESC`; unfiltered, the time-ordered primary key does.
    """
    if any(key.startswith(("program__", "partner__")) for key in request.GET):
        return ["-created_at"]
    return ["-pk"]


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows, so a list page never runs COUNT(*) over a whole big table.

    The count query is `SELECT COUNT(*) FROM (… LIMIT CAP + 1)`: it stops after CAP + 1
    index entries whatever the table size. Beyond the cap the operator narrows the list with
    a filter or a search, which is what answers a question anyway.
    """

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        counted = self.object_list[: self.CAP + 1].count()
        return min(counted, self.CAP)

    @cached_property
    def is_capped(self) -> bool:
        return self.count >= self.CAP
