"""Who the SIP side trusts as the interconnect."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from denwa.sip.config import SipConfig

hosts = st.sampled_from(["127.0.0.1", "10.0.0.1", "::1", ":", "gw.example"])
ports = st.integers(0, 70000)
entries = st.one_of(
    hosts,
    st.builds(lambda h, p: f"{h}:{p}", hosts, ports | st.sampled_from(["", "x", "05070", "٣"])),
)


@given(st.lists(entries, max_size=4), hosts, ports)
def test_a_source_is_trusted_when_an_entry_is_its_ip_or_exactly_its_ip_and_port(
    trusted: list[str], ip: str, port: int
) -> None:
    config = SipConfig(trusted_sources=tuple(trusted))
    expected = ip in config.trusted or f"{ip}:{port}" in config.trusted
    assert config.is_trusted(ip, port) is expected
