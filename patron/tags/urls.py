from django.urls import path

from patron.tags import views

app_name = "tags"
urlpatterns = [
    path("", views.TagListView.as_view(), name="list"),
    path("add/", views.TagEditView.as_view(), name="add"),
    path("<int:pk>/", views.TagEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.TagDeleteView.as_view(), name="delete"),
    path("<int:pk>/merge/", views.TagMergeView.as_view(), name="merge"),
]
