from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "patron.notes"
    label = "notes"
    verbose_name = "Notes"
