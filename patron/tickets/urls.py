from django.urls import path

from patron.tickets.views import pages, ticket

app_name = "tickets"
urlpatterns = [
    path("", pages.TicketListView.as_view(), name="list"),
    path("mine/", pages.MyWorkView.as_view(), name="my_work"),
    path("closed/", pages.ClosedTicketReportView.as_view(), name="closed_report"),
    path("queue/", pages.QueueIndexView.as_view(), name="queue_index"),
    path("queue/<int:pk>/", pages.QueueView.as_view(), name="queue"),
    path("customer/<int:pk>/", ticket.TicketCardView.as_view(), name="customer_card"),
    path("customer/<int:pk>/add/", ticket.TicketAddView.as_view(), name="customer_add"),
    path("customer/<int:pk>/work/", pages.CustomerWorkView.as_view(), name="customer_work"),
    path("<int:pk>/", ticket.TicketDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", ticket.TicketEditView.as_view(), name="edit"),
    path("<int:pk>/comments/", ticket.TicketCommentView.as_view(), name="comment"),
    path("<int:pk>/close/", ticket.TicketCloseView.as_view(), name="close"),
    path("<int:pk>/reopen/", ticket.TicketReopenView.as_view(), name="reopen"),
    path("<int:pk>/take/", ticket.TicketTakeView.as_view(), name="take"),
]
