"""Email addresses of an import: international ones accepted, as people write them.

The check is the one every entry path uses, `patron.core.emails` (the contact
form and API too); kept under this name for the import's row checks.
"""

from patron.core.emails import check_email

__all__ = ["check_email"]
