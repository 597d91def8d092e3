"""Writing the Kamailio runtime (cfg, gateway list, Python loader) and running Kamailio."""

from __future__ import annotations

import ipaddress
import os
import secrets
import shutil
import site
import sys
from pathlib import Path
from string import Template

from denwa.core.protection.blocks import BlockRule, BlockTarget, block_key
from denwa.core.protection.keys import BLOCKS_TABLE, RATE_TABLE, TABLES, flood_key
from denwa.sip.config import SipConfig

KAMAILIO = "kamailio"
TEMPLATE = Path(__file__).with_name("kamailio.cfg.template")


def runtime_dir(home: Path, node: str = "") -> Path:
    """The generated cfg, the control socket, the PID file: ``DENWA_HOME/sip``, or
    ``DENWA_HOME/sip/<node>`` for a named node (several nodes share one DENWA_HOME)."""
    return home / "sip" / node if node else home / "sip"


def write_runtime(home: Path, config: SipConfig) -> Path:
    """Generate kamailio.cfg, gateways.list and kemi_loader.py; return the cfg path."""
    run = runtime_dir(home, config.node)
    run.mkdir(parents=True, exist_ok=True)
    secret_file = runtime_dir(home) / "auth_secret"  # one per DENWA_HOME: any node's nonce
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(16))
    cfg = Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        children=config.children,
        listen_address=config.listen_address,
        listen_port=config.listen_port,
        realm=config.realm,
        run_dir=run,
        gateway_timeout_ms=config.gateway_timeout_seconds * 1000,
        max_call_seconds=config.max_call_seconds,
        auth_secret=secret_file.read_text().strip(),
        interconnect=interconnect_route(config),
        dmq_modules=dmq_modules(config),
        replication=replication(config),
        dmq_route=dmq_route(config),
        protection_params=protection_params(config),
        source_route=source_route(config),
        in_dialog_invite=in_dialog_invite(config),
    )
    (run / "kamailio.cfg").write_text(cfg, encoding="utf-8")
    gateways = "".join(
        f"1 sip:{gateway} 0 {len(config.gateways) - index}\n"
        for index, gateway in enumerate(config.gateways)
    )
    (run / "gateways.list").write_text(gateways, encoding="utf-8")
    (run / "kemi_loader.py").write_text(_loader(home, config.node), encoding="utf-8")
    return run / "kamailio.cfg"


def protection_params(config: SipConfig) -> str:
    """The cfg's htables of the protection steps (``denwa.core.protection.keys.TABLES``)."""
    nodes = len(config.cluster)
    return "".join(
        f'modparam("htable", "htable", "{table.modparam_on(nodes)}")\n' for table in TABLES
    )


def source_route(config: SipConfig) -> str:
    """The body of the cfg's ``route[SOURCE]``: blocked addresses and floods (empty: off).

    Only requests that start something (no To tag: REGISTER, INVITE, OPTIONS …) are
    checked and counted; requests inside a call follow its route set (a made-up one
    is answered 404 at once).  A flood-blocked address's requests are dropped here,
    without Python; an address blocked for failed authentications gets its refusal
    from Python.
    """
    if not config.protections:
        return "\treturn;\n"
    block = f"$sht({BLOCKS_TABLE}=>{block_key(BlockTarget.SOURCE, '$si')})"
    lines = [
        "\tif (has_totag() || route(INTERCONNECT)) {\n\t\treturn;\n\t}\n",
        f"\tif ({block} != $null) {{\n",  # $var would keep the last request's value
        f'\t\tif ({block} =~ "^{BlockRule.FLOOD.value}[|]") {{\n\t\t\texit;\n\t\t}}\n',
        '\t\tpython_exec("ksr_source_blocked");\n\t\texit;\n\t}\n',
    ]
    limit = config.limits.flood_requests_per_second
    if limit > 0:
        lines += [
            f"\t$var(requests) = $shtinc({RATE_TABLE}=>{flood_key('$si', '$Ts')});\n",
            f"\tif ($var(requests) > {limit}) {{\n",
            f'\t\tif ($var(requests) == {limit + 1}) {{\n\t\t\tpython_exec("ksr_flooding");\n',
            "\t\t}\n\t\texit;\n\t}\n",
        ]
    return "".join(lines)


def in_dialog_invite(config: SipConfig) -> str:
    """The cfg lines that hand a re-INVITE with SDP to Python (hold), before it is relayed."""
    if not config.protections:
        return ""
    return (
        '\t\tif (is_method("INVITE") && has_body("application/sdp")) {\n'
        '\t\t\tpython_exec("ksr_in_dialog_invite");\n\t\t}\n'
    )


def replication(config: SipConfig) -> str:
    """The cfg lines that make a node share what it keeps in memory with the other nodes.

    DMQ (Kamailio's distributed message queue, over SIP on its own port): the
    registrations (``dmq_usrloc``: every REGISTER saved on one node is saved on the
    others, and a node that starts asks a peer for all of them) and the protection
    htables that say ``dmqreplicate`` (``denwa.core.protection.keys.TABLES``; a node
    that starts asks for them too); nothing for a single node.
    """
    if not config.replicated:
        return ""
    address = f"{config.listen_address}:{config.dmq_port}"
    lines = [
        f"listen=udp:{address}",
        f'modparam("dmq", "server_address", "sip:{address}")',
        *(f'modparam("dmq", "notification_address", "sip:{peer}")' for peer in config.dmq_peers),
        'modparam("dmq", "multi_notify", 1)',
        'modparam("dmq", "num_workers", 2)',
        'modparam("dmq", "ping_interval", 15)',
        'modparam("dmq_usrloc", "enable", 1)',
        'modparam("dmq_usrloc", "sync", 1)',
        'modparam("htable", "enable_dmq", 1)',
        'modparam("htable", "dmq_init_sync", 1)',
    ]
    return "".join(line + "\n" for line in lines)


def dmq_modules(config: SipConfig) -> str:
    """``dmq`` and ``dmq_usrloc``, loaded before ``htable`` (which registers with ``dmq``)."""
    if not config.replicated:
        return ""
    return 'loadmodule "dmq.so"\nloadmodule "dmq_usrloc.so"\n'


def dmq_route(config: SipConfig) -> str:
    """The body of the cfg's ``route[DMQ]``: KDMQ on the DMQ port from a known node, handled."""
    if not config.replicated:
        return "\treturn;\n"
    return (
        f'\tif (!is_method("KDMQ")) {{ return; }}\n'
        f"\tif ($Rp == {config.dmq_port} && dmq_is_from_node()) {{ dmq_handle_message(); }}\n"
        "\texit;\n"
    )


def interconnect_route(config: SipConfig) -> str:
    """The body of the cfg's ``route[INTERCONNECT]``: returns 1 for a trusted source.

    The same test as ``SipConfig.is_trusted``: an entry is the source ip, or exactly
    "ip:port".  Entries that are not IP addresses can never equal a source address
    (``$si``) and are left out, which also keeps anything but an address out of the cfg.
    """
    lines = []
    for entry in sorted(config.trusted):
        if _ip(entry):
            lines.append(f'\tif ($si == "{entry}") {{ return 1; }}\n')
        ip, _, port = entry.rpartition(":")
        if _ip(ip) and port.isdigit() and str(int(port)) == port:
            lines.append(f'\tif ($si == "{ip}" && $sp == {port}) {{ return 1; }}\n')
    return "".join(lines)


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _loader(home: Path, node: str) -> str:
    paths = [p for p in site.getsitepackages() if "site-packages" in p]
    return (
        "# Generated by `denwa sip`: makes the virtualenv importable in Kamailio's Python.\n"
        "import os, site\n"
        + "".join(f"site.addsitedir({p!r})\n" for p in paths)
        + f"os.environ.setdefault('DENWA_HOME', {str(home)!r})\n"
        + (f"os.environ['DENWA_SIP_NODE'] = {node!r}\n" if node else "")
        + "from denwa.sip.kemi import mod_init  # noqa: E402,F401\n"
    )


def kamailio_command(home: Path, config: SipConfig) -> list[str]:
    """The command line that runs Kamailio in the foreground on the generated cfg."""
    binary = shutil.which(KAMAILIO) or shutil.which(KAMAILIO, path="/usr/sbin:/sbin")
    if binary is None:
        raise FileNotFoundError("kamailio is not installed (apt-get install kamailio)")
    run = runtime_dir(home, config.node)
    return [
        binary,
        "-DD",
        "-E",
        "-f",
        str(run / "kamailio.cfg"),
        "-Y",
        str(run),
        "-P",
        str(run / "kamailio.pid"),
        "-m",
        str(config.shared_memory_mb),
        "-M",
        str(config.private_memory_mb),
        "-x",
        config.memory_manager,
        "-X",
        config.memory_manager,
    ]


def exec_kamailio(home: Path, config: SipConfig) -> None:
    """Replace this process with Kamailio (Ctrl-C stops it)."""
    command = kamailio_command(home, config)
    os.environ["DENWA_HOME"] = str(home)
    if config.node:
        os.environ["DENWA_SIP_NODE"] = config.node
    sys.stdout.flush()
    os.execv(command[0], command)
