"""The directory: org units and service points, departments, windows, staff and AB posts."""
