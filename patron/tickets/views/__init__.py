"""Ticket pages: the ticket itself, the overview card, the work lists and the report."""
