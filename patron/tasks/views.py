"""Task pages: the overview card and its actions, and the edit page."""

from patron.core.redirects import safe_next
from patron.core.views import ObjectEditView, get_restricted_object
from patron.customers.models import Customer
from patron.tasks import services
from patron.tasks.forms import TaskForm, TaskQuickForm
from patron.tasks.models import Task
from patron.tasks.overview import overview_context
from patron.tickets.cards import WorkCardActionView, WorkCardView


class TaskCardMixin:
    card_template = "tasks/_customer_tasks.html"

    def card_context(self, customer):
        return overview_context(self.request, customer)


class TaskCardView(TaskCardMixin, WorkCardView):
    model = Customer


class TaskAddView(TaskCardMixin, WorkCardActionView):
    model = Task
    required_action = "add"
    form_key = "task_form"

    def act(self, actor, customer):
        form = self.valid_form(TaskQuickForm(self.request.POST, user=self.request.user))
        services.task_create(actor=actor, customer=customer, data=form.model_data)


class TaskDoneView(TaskCardMixin, WorkCardActionView):
    """Mark a task done (`done=1`) or not done again (`done=0`)."""

    model = Task
    required_action = "change"

    def get_customer(self, pk):
        self.task = get_restricted_object(self.request, Task, "change", pk=pk)
        return self.task.customer

    def act(self, actor, customer):
        services.task_done(actor=actor, task=self.task, done=self.request.POST.get("done") != "0")


class TaskEditView(ObjectEditView):
    """Edit a task; tasks are added from the customer overview."""

    model = Task
    form_class = TaskForm

    def get_form(self, instance, data=None):
        return TaskForm(data=data, instance=instance, user=self.request.user)

    def update(self, instance, form, expected_version):
        return services.task_update(
            actor=self.actor,
            task=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def success_url(self, obj):
        return obj.customer.get_absolute_url()

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["title"] = f"Edit task “{instance}” on {instance.customer}"
        response.context_data["cancel_url"] = safe_next(
            self.request, instance.customer.get_absolute_url()
        )
        return response
