"""API building blocks: base viewset, permissions, pagination, error shape."""
