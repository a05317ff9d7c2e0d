"""Patron's URLs: one include per app, the API under /api/."""

from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from patron.bulk import urls as bulk_urls
from patron.dashboard.views import HomeView
from patron.jobs import urls as jobs_urls


class FaviconView(RedirectView):
    """Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the API's JSON)."""

    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("patron/favicon.svg")


urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("favicon.ico", FaviconView.as_view(), name="favicon"),
    path("accounts/", include("patron.accounts.urls")),
    path("customers/", include("patron.customers.urls")),
    path("events/", include("patron.events.urls")),
    path("segments/", include("patron.segments.urls")),
    # The jobs pages and the bulk pages that start jobs, in one `jobs` namespace.
    path("jobs/", include(([*jobs_urls.urlpatterns, *bulk_urls.urlpatterns], "jobs"))),
    path("imports/", include("patron.imports.urls")),
    path("notes/", include("patron.notes.urls")),
    path("tasks/", include("patron.tasks.urls")),
    path("tickets/", include("patron.tickets.urls")),
    path("config/tags/", include("patron.tags.urls")),
    path("config/groups/", include("patron.groups.urls")),
    path("config/statuses/", include("patron.statuses.urls")),
    path("config/classes/", include("patron.classes.urls")),
    path("config/departments/", include("patron.departments.urls")),
    path("config/custom-fields/", include("patron.customfields.urls")),
    path("config/banners/", include("patron.banners.urls")),
    path("config/catalogue/", include("patron.catalogue.urls")),
    path("calls/", include("patron.calls.urls")),
    path("ledger/", include("patron.ledger.urls")),
    path("billing/", include("patron.billing.urls")),
    path("payments/", include("patron.payments.urls")),
    path("cashback/", include("patron.cashback.urls")),
    path("subscriptions/", include("patron.subscriptions.urls")),
    path("api/", include("patron.api")),
]
