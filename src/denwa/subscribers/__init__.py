"""Subscribers: ISP accounts, phone contracts and their history, TAs and rentals (SPEC §2)."""
