"""Read side: SELECTs returning rows or read models, one module per resource."""
