"""The REST API: one router, every endpoint listed here."""

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.routers import DefaultRouter, SimpleRouter

from patron.accounts.api import RoleViewSet, TokenViewSet, UserViewSet
from patron.banners.api import BannerRuleViewSet
from patron.billing.api import BillingRunViewSet, InvoiceViewSet, UsageChargeViewSet
from patron.bulk.api import BulkViewSet
from patron.calls.api import CallLogViewSet
from patron.cashback.api import (
    CashbackUndoView,
    CustomerCashbackView,
    GroupCashbackPreviewView,
    GroupCashbackView,
)
from patron.catalogue.api import InventoryTypeViewSet, ServiceViewSet, TaxRateViewSet
from patron.classes.api import CustomerClassViewSet
from patron.customers.api import ContactViewSet, CustomerViewSet
from patron.customfields.api import CustomFieldViewSet
from patron.departments.api import DepartmentViewSet
from patron.events.api import EventViewSet
from patron.groups.api import GroupSetViewSet, GroupViewSet
from patron.imports.api import CustomerImportViewSet, ExportViewSet, PhoneListViewSet
from patron.jobs.api import JobViewSet
from patron.ledger.api import CustomerLedgerViewSet
from patron.notes.api import NoteViewSet
from patron.payments.api import GroupPaymentViewSet, PaymentViewSet
from patron.segments.api import SegmentViewSet
from patron.statuses.api import StatusViewSet
from patron.subscriptions.api import CustomerServiceViewSet
from patron.tags.api import TagViewSet
from patron.tasks.api import TaskViewSet
from patron.tickets.api import TicketViewSet

router = DefaultRouter()
router.register("tags", TagViewSet, basename="tag")
router.register("jobs", JobViewSet, basename="job")
router.register("imports", CustomerImportViewSet, basename="customerimport")
router.register("exports", ExportViewSet, basename="export")
router.register("phone-lists", PhoneListViewSet, basename="phonelist")
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("segments", SegmentViewSet, basename="segment")
router.register("group-sets", GroupSetViewSet, basename="groupset")
router.register("groups", GroupViewSet, basename="group")
router.register("statuses", StatusViewSet, basename="status")
router.register("classes", CustomerClassViewSet, basename="customerclass")
router.register("departments", DepartmentViewSet, basename="department")
router.register("users", UserViewSet, basename="user")
router.register("roles", RoleViewSet, basename="role")
router.register("tokens", TokenViewSet, basename="token")
router.register("events", EventViewSet, basename="event")
router.register("notes", NoteViewSet, basename="note")
router.register("tasks", TaskViewSet, basename="task")
router.register("tickets", TicketViewSet, basename="ticket")
router.register("custom-fields", CustomFieldViewSet, basename="customfield")
router.register("banners", BannerRuleViewSet, basename="bannerrule")
router.register("calls", CallLogViewSet, basename="calllog")
router.register("services", ServiceViewSet, basename="service")
router.register("tax-rates", TaxRateViewSet, basename="taxrate")
router.register("inventory-types", InventoryTypeViewSet, basename="inventorytype")
router.register(
    r"customers/(?P<customer_pk>\d+)/services", CustomerServiceViewSet, basename="customerservice"
)
router.register("usage-charges", UsageChargeViewSet, basename="usagecharge")
router.register("billing-runs", BillingRunViewSet, basename="billingrun")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")
# The bulk actions answer under /api/jobs/ beside the jobs they start (bulk/, bulk/preview/,
# bulk-tag/, <id>/undo/). A router takes one viewset per name: this one keeps theirs
# (job-bulk, job-undo, …).
bulk_router = SimpleRouter()
bulk_router.register("jobs", BulkViewSet, basename="job")


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema: for a signed-in user or a token, unless
    PATRON_PUBLIC_API_SCHEMA publishes it (read per request)."""

    def get_permissions(self):
        return [AllowAny() if settings.PATRON_PUBLIC_API_SCHEMA else IsAuthenticated()]


class DocsView(SpectacularSwaggerView):
    """The docs page: someone not signed in signs in first, then comes back."""

    permission_classes = [AllowAny]  # checked in get(), to redirect instead of a 401

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        if not settings.PATRON_PUBLIC_API_SCHEMA and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)


urlpatterns = [
    path(
        "customers/<int:customer_pk>/ledger/",
        CustomerLedgerViewSet.as_view({"get": "list", "post": "create"}),
        name="customer-ledger",
    ),
    path(
        "groups/<int:group_id>/payments/",
        GroupPaymentViewSet.as_view({"get": "list", "post": "create"}),
        name="group-payments",
    ),
    path("groups/<int:group_id>/cashback/", GroupCashbackView.as_view(), name="group-cashback"),
    path(
        "groups/<int:group_id>/cashback/preview/",
        GroupCashbackPreviewView.as_view(),
        name="group-cashback-preview",
    ),
    path(
        "customers/<int:customer_pk>/cashback/",
        CustomerCashbackView.as_view(),
        name="customer-cashback",
    ),
    path("cashback/undo/", CashbackUndoView.as_view(), name="cashback-undo"),
    path("", include(router.urls)),
    path("", include(bulk_router.urls)),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", DocsView.as_view(url_name="api-schema"), name="api-docs"),
]
