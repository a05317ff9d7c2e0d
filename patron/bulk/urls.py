"""The bulk pages, under /jobs/ beside the jobs themselves.

No namespace of their own: `patron/urls.py` includes these patterns in the
jobs namespace, so their names stay `jobs:bulk`, `jobs:bulk_tag` and
`jobs:undo` while the jobs app knows nothing of them.
"""

from django.urls import path

from patron.bulk import views

urlpatterns = [
    path("bulk/", views.BulkActionView.as_view(), name="bulk"),
    path("bulk-tag/", views.BulkTagView.as_view(), name="bulk_tag"),
    path("<int:pk>/undo/", views.JobUndoView.as_view(), name="undo"),
]
