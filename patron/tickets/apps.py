from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "patron.tickets"
    label = "tickets"
    verbose_name = "Tickets"
