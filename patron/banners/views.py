"""Alert banner rule pages: list, add/edit, delete."""

from django.utils.html import format_html

from patron.banners import services
from patron.banners.filters import BannerRuleFilterSet
from patron.banners.forms import BannerRuleForm
from patron.banners.models import BannerRule
from patron.core.tables import Column
from patron.core.views import ObjectDeleteView, ObjectEditView, ObjectListView


def severity_badge(rule: BannerRule):
    css = {"danger": "text-bg-danger", "warning": "text-bg-warning", "info": "text-bg-info"}
    return format_html(
        '<span class="badge {}">{}</span>', css[rule.severity], rule.get_severity_display()
    )


class BannerRuleListView(ObjectListView):
    model = BannerRule
    filterset_class = BannerRuleFilterSet
    add_url_name = "banners:add"
    title = "Alert banners"
    default_ordering = ("position", "name", "id")
    select_related = ("tag", "group", "status", "customer_class", "custom_field", "segment")
    columns = [
        Column("name", link=True),
        Column("severity", html=severity_badge),
        Column("condition", accessor=lambda r: r.condition_label, sortable=False),
        Column("message", sortable=False),
        Column("position"),
        Column("active"),
    ]


class BannerRuleEditView(ObjectEditView):
    model = BannerRule
    form_class = BannerRuleForm
    success_url_name = "banners:list"
    delete_url_name = "banners:delete"

    def get_form(self, instance, data=None):
        return self.form_class(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        return services.banner_rule_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.banner_rule_update(
            actor=self.actor, rule=instance, data=form.model_data, expected_version=expected_version
        )


class BannerRuleDeleteView(ObjectDeleteView):
    model = BannerRule
    success_url_name = "banners:list"

    def delete(self, obj):
        services.banner_rule_delete(actor=self.actor, rule=obj)
