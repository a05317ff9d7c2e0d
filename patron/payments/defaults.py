"""The payment methods of a fresh installation (data migration and `ensure_defaults`)."""

DEFAULT_PAYMENT_METHODS = [
    ("Cash", 10),
    ("Bank transfer", 20),
    ("Card", 30),
    ("Direct debit", 40),
    ("Cheque", 50),
]


def ensure_default_payment_methods(model=None) -> None:
    """The default methods, unless the installation has any method at all."""
    if model is None:
        from patron.payments.models import PaymentMethod as model
    if model.objects.exists():
        return
    for name, position in DEFAULT_PAYMENT_METHODS:
        model.objects.create(name=name, position=position)
