"""The top floor: what runs and seeds an installation.

`patron serve`, `createowner`, `check` (healthcheck), `demo`, `backup` and
`restore` live here, above every domain app, so no domain app imports them
and `core` imports no domain app.
"""
