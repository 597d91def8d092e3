"""Billing: the monthly close, statements (immutable once closed) and adjustments (SPEC §3, §4)."""
