"""Statements: fixed charges, call totals, adjustments and tax, put together (SPEC §3, §4)."""
