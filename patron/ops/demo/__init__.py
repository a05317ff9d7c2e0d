"""Demo data: a small UK broadband and phone provider, loaded through the services.

Everything is written with `Actor.system_actor("demo loader")` through the
same service functions the web pages and the API use, so the event log, the
group rules and the status history are exactly what real use produces. A
fixed random seed makes every installation's demo data the same.

One module per part of the provider's book, loaded in this order by
`loader.DemoLoader`:

    lists.py      tags, customer classes, departments (and the default statuses)
    groups.py     the customer group set, the region tree, a payment group
    people.py     demo staff users, their roles and departments
    places.py     the towns customers live in: addresses, postcodes, phone numbers
    customers.py  people, companies, public bodies and resellers, with contacts
    billing.py    the catalogue, customer services, usage, six months of billing runs and payments
    lifecycle.py  how long each has been a customer; suspensions, ceases, archives
    work.py       custom fields, banner rules, notes, tasks, tickets and calls

`patron demo` (`ops/management/commands/demo.py`) and `make demo` run
`load_demo()`; the installed defaults it starts from come from
`patron.ops.defaults.ensure_defaults()`.
"""

from patron.ops.demo.loader import (
    DEMO_CUSTOMERS,
    DEMO_SEED,
    DemoLoader,
    DemoRefused,
    DemoSummary,
    load_demo,
)

__all__ = ["DEMO_CUSTOMERS", "DEMO_SEED", "DemoLoader", "DemoRefused", "DemoSummary", "load_demo"]
