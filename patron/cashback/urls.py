from django.urls import path

from patron.cashback import views

app_name = "cashback"
urlpatterns = [
    path("run/", views.CashbackRunView.as_view(), name="run"),
    path("job/<int:pk>/undo/", views.CashbackUndoView.as_view(), name="undo"),
]
