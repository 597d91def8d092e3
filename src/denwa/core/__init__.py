"""The pure core of denwa.

Number analysis, call policy, rating, tax, the contract lifecycle and its
charges.  Nothing here imports Django, Kamailio's ``KSR`` or any other
framework: the SIP routing script, the web side and the batch commands all
call into this package, never the other way round (``tests/unit/test_core_is_pure.py``
enforces it).
"""
