"""Which proxies may name a client's address: uvicorn (Gradio's server) replaces a request's address with the one in
its ``X-Forwarded-For`` header when the request comes from an address in ``FORWARDED_ALLOW_IPS``, which defaults to
127.0.0.1: anyone who reaches the app through a local forwarder, or sends from the machine, names their own
address and so escapes the per-address limits. Here no address is trusted unless the operator names the proxies
(``--trusted-proxies`` or ``$MLVAE_TRUSTED_PROXIES``: addresses or networks, comma- or space-separated); uvicorn
then takes the right-most address in the header that is not one of them, as a proxy chain appends them."""
from __future__ import annotations

import ipaddress
import os
import re

ENV_VAR = "MLVAE_TRUSTED_PROXIES"
UVICORN_VAR = "FORWARDED_ALLOW_IPS"  # read by uvicorn.Config when Gradio starts its server


def parse_proxies(text: str | None) -> list[str]:
    """The proxies' addresses or networks named in ``text`` (comma- or space-separated), checked; ValueError
    naming the first that is neither. "*" (trust anyone) is refused: it is what the setting guards against."""
    proxies = []
    for item in filter(None, re.split(r"[,\s]+", text or "")):
        try:
            proxies.append(str(ipaddress.ip_network(item, strict=False) if "/" in item else ipaddress.ip_address(item)))
        except ValueError:
            raise ValueError(f"trusted proxy {item[:100]!r} is not an IP address or network (e.g. 10.0.0.5 or "
                             "10.0.0.0/8)") from None
    return proxies


def trust_proxies(proxies: list[str]) -> None:
    """Make the server that is started next take forwarded addresses from ``proxies`` only (none: from no one)."""
    os.environ[UVICORN_VAR] = ",".join(proxies)  # "" matches no address


def configured_proxies(flag: str | None) -> list[str]:
    """The proxies named by the flag, else by $MLVAE_TRUSTED_PROXIES; none by default."""
    return parse_proxies(flag if flag is not None else os.environ.get(ENV_VAR))
