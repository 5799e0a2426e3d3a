"""Routes only: HTTP <-> handlers and queries, one module per resource."""
