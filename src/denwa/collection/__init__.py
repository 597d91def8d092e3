"""Collection by Zengin bank direct debit (口座振替): runs, per-statement results, the stop list."""
