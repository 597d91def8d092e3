"""Calls: one record per call attempt (CDR), rated as it is imported (SPEC §1, §3)."""
