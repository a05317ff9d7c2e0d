"""Customer search: one index row per customer, kept up to date by the database.

See patron/search/index.py for how a search is answered and
docs/performance.md for the indexes this app adds.
"""
