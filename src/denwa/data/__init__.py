"""Shipped operator data defaults (CSV files in ``defaults/``)."""
