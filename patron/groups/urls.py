from django.urls import path

from patron.groups import views

app_name = "groups"
urlpatterns = [
    path("sets/", views.GroupSetListView.as_view(), name="set_list"),
    path("sets/add/", views.GroupSetEditView.as_view(), name="set_add"),
    path("sets/<int:pk>/", views.GroupSetEditView.as_view(), name="set_edit"),
    path("sets/<int:pk>/delete/", views.GroupSetDeleteView.as_view(), name="set_delete"),
    path("", views.GroupListView.as_view(), name="list"),
    path("add/", views.GroupEditView.as_view(), name="add"),
    path("<int:pk>/", views.GroupDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.GroupEditView.as_view(), name="edit"),
    path("<int:pk>/archive/", views.GroupArchiveView.as_view(), name="archive"),
    path("<int:pk>/delete/", views.GroupDeleteView.as_view(), name="delete"),
    path("<int:pk>/explain/<int:customer_pk>/", views.GroupExplainView.as_view(), name="explain"),
]
