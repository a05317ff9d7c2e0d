"""The notes card on the customer overview: pinned notes first."""

from patron.notes.forms import NoteQuickForm
from patron.notes.models import Note

NOTES_ON_OVERVIEW = 20


def overview_context(request, customer) -> dict:
    """Context for `notes/_customer_notes.html`; a fixed number of queries."""
    user = request.user
    notes = list(
        Note.objects.restrict(user)
        .filter(customer=customer)
        .for_overview()[: NOTES_ON_OVERVIEW + 1]
    )
    can_add = user.has_perm("notes.add_note")
    return {
        "notes": notes[:NOTES_ON_OVERVIEW],
        "notes_more": len(notes) > NOTES_ON_OVERVIEW,
        "can_change_note": user.has_perm("notes.change_note"),
        "note_form": NoteQuickForm(user=user) if can_add else None,
    }
