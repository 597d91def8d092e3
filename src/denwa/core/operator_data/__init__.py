"""Operator data: the files the operator edits (ranges, tariffs, fees, rules, wording).

Shipped defaults live in ``denwa/data/defaults``; an operator's directory
overrides them file by file.  Every file is validated on load and an error
names the file, the line and the problem.
"""
