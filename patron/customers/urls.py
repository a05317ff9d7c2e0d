from django.urls import path

from patron.customers.views import contacts, listing, overview, profile

app_name = "customers"
urlpatterns = [
    path("", listing.CustomerListView.as_view(), name="list"),
    path("add/", profile.CustomerEditView.as_view(), name="add"),
    path("<int:pk>/", overview.CustomerDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", profile.CustomerEditView.as_view(), name="edit"),
    path("<int:pk>/archive/", profile.archive_view, name="archive"),
    path("<int:pk>/events/", overview.OverviewCardView.as_view(card="events"), name="events"),
    path("<int:pk>/tags/add/", overview.TagAddView.as_view(), name="tag_add"),
    path("<int:pk>/tags/remove/", overview.TagRemoveView.as_view(), name="tag_remove"),
    path("<int:pk>/groups/add/", overview.GroupAddView.as_view(), name="group_add"),
    path("<int:pk>/groups/remove/", overview.GroupRemoveView.as_view(), name="group_remove"),
    path("<int:pk>/groups/validity/", overview.GroupValidityView.as_view(), name="group_validity"),
    path(
        "<int:pk>/groups/scheduled/cancel/",
        overview.GroupScheduleCancelView.as_view(),
        name="group_schedule_cancel",
    ),
    path("<int:pk>/status/", overview.StatusChangeView.as_view(), name="status_change"),
    path("<int:pk>/status/dialog/", overview.StatusDialogView.as_view(), name="status_dialog"),
    path("<int:pk>/status/cancel/", overview.StatusCancelView.as_view(), name="status_cancel"),
    path("<int:pk>/notes/", overview.NotesSaveView.as_view(), name="notes"),
    path("<int:pk>/contacts/add/", contacts.ContactEditView.as_view(), name="contact_add"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/",
        contacts.ContactEditView.as_view(),
        name="contact_edit",
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/delete/",
        contacts.ContactDeleteView.as_view(),
        name="contact_delete",
    ),
]
