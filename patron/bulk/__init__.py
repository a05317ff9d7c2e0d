"""Bulk actions on customers: targets, the actions themselves, preview, the job, undo.

See docs/jobs.md ("Bulk actions") for what staff see and the rules each
action keeps.
"""
