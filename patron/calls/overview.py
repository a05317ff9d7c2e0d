"""The call log card on the customer overview.

    context.update(patron.calls.overview.overview_context(request, customer))
    {% include "calls/_customer_calls.html" %}

Two queries (recent calls with contact and staff member, and the count)
whatever the number of calls.
"""

from patron.calls.models import CallLog

RECENT_CALLS = 5


def overview_context(request, customer, *, limit: int = RECENT_CALLS, form=None) -> dict:
    calls = (
        CallLog.objects.restrict(request.user)
        .filter(customer=customer)
        .select_related("contact", "staff_user")
        .order_by("-started_at", "-id")
    )
    return {
        "calls": list(calls[:limit]),
        "call_count": calls.count(),
        "calls_limit": limit,
        "can_log_call": request.user.has_perm("calls.add_calllog"),
        "can_change_call": request.user.has_perm("calls.change_calllog"),
        "call_form": form,
    }
