"""ご利用明細照会: the subscriber's own web pages (usage, statements, calls, support, data)."""
