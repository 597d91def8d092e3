"""The SIP side: Kamailio's routing logic in Python (KEMI), the policy snapshot, the CDR spool.

Only ``denwa.sip.ksr`` touches Kamailio's ``KSR``; the routing steps in
``routing`` talk to it through the small ``SipMessage`` protocol, so they run
under a fake in unit tests.
"""
