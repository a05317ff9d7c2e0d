from django.apps import AppConfig

from patron.core.cards import overview_cards


class TasksConfig(AppConfig):
    name = "patron.tasks"
    label = "tasks"
    verbose_name = "Tasks"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.tasks.overview import overview_context

        overview_cards.register(
            "tasks",
            template="tasks/_customer_tasks.html",
            column="main",
            position=30,
            context=overview_context,
        )
