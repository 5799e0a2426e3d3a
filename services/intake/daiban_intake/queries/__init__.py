"""The read side: SELECTs returning rows and read models, scoped to who may see them."""
