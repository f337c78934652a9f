"""``python app.py``: load the models and launch the demo (locally, or as a Hugging Face Space)."""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time

from .gradio_internals.forwarding import configured_proxies, trust_proxies
from .gradio_internals.upload_space import CAP_ENV_VAR
from .models import ENV_VAR, load_registry, sources_from_env


def build_parser(prog: str = "python app.py") -> argparse.ArgumentParser:
    """The command line of ``python app.py`` (installed as ``mlvae-demo``)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description="The ML-VAE demo: pool evidence, interpolate, swap and generate, in the browser. It serves the "
        "shipped checkpoints in checkpoints/ (mnist, faces) that exist, plus any given here or in "
        f"${ENV_VAR} (comma- or space-separated).",
    )
    p.add_argument("--model", action="append", default=[], metavar="PATH_OR_HUB_ID",
                   help="an extra checkpoint: a folder with config.json + model.safetensors, a training run folder "
                   "(its best/ is used), or a Hugging Face Hub id like user/name; repeat for several")
    p.add_argument("--no-shipped", action="store_true", help="do not load checkpoints/mnist and checkpoints/faces")
    p.add_argument("--host", default=None, help="address to listen on (default: 127.0.0.1, or $GRADIO_SERVER_NAME)")
    p.add_argument("--port", type=int, default=None,
                   help="port (default: 7860 or the next free one, or $GRADIO_SERVER_PORT)")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: 1, one core for each of the 2 requests served at once)")
    p.add_argument("--trusted-proxies", default=None, metavar="ADDRESSES",
                   help="the reverse proxies whose X-Forwarded-For header names the client's address (IP addresses "
                   "or networks, comma-separated; default: none, or $MLVAE_TRUSTED_PROXIES): the per-client limits "
                   "then count each client behind them; see SECURITY.md")
    p.add_argument("--upload-cap-mb", type=int, default=None, metavar="MB",
                   help="the most the upload folder may hold, in MB (default: 4096, or $MLVAE_UPLOAD_CAP_MB); the "
                   "oldest uploads no event used are deleted first to make room")
    p.add_argument("--share", action="store_true",
                   help="also open a temporary public gradio.live link (needs the internet)")
    return p


def main(argv: list[str] | None = None, prog: str = "python app.py") -> int:
    """Load the models, build the interface and serve it until interrupted."""
    started = time.perf_counter()
    args = build_parser(prog).parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # works offline; no calls home
    try:  # before Gradio starts uvicorn, which reads them
        proxies = configured_proxies(args.trusted_proxies)
        if args.upload_cap_mb is not None and args.upload_cap_mb < 1:
            raise ValueError(f"--upload-cap-mb must be at least 1, got {args.upload_cap_mb}")
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    trust_proxies(proxies)
    if args.upload_cap_mb is not None:
        os.environ[CAP_ENV_VAR] = str(args.upload_cap_mb)
    logging.getLogger("demo").info("client addresses: %s", f"forwarded by {', '.join(proxies)}" if proxies else
                                   "the connections' own (no trusted proxy)")
    # Gradio enters a matplotlib context around every event: with the backend named (headless) and matplotlib
    # imported now, the first request does not hold up the event loop, and every client, while pyplot is imported
    os.environ.setdefault("MPLBACKEND", "agg")
    import matplotlib  # noqa: F401
    import torch

    try:
        from .app import TORCH_THREADS, build_app, launch_options
    except ModuleNotFoundError as exc:
        if exc.name != "gradio":
            raise
        print(f"{prog}: the demo needs Gradio, which is not installed: pip install 'mlvae[demo]'", file=sys.stderr)
        return 1

    torch.set_num_threads(args.threads or TORCH_THREADS)

    registry = load_registry([*args.model, *sources_from_env()], include_shipped=not args.no_shipped)
    app = build_app(registry)
    logging.getLogger("demo").info("built the demo with %d model(s) in %.1f s", len(registry.models),
                                   time.perf_counter() - started)
    app.launch(server_name=args.host, server_port=args.port, share=args.share, **launch_options())
    return 0


def installed_main() -> int:
    """The ``mlvae-demo`` command (pip installs it): the demo on the checkpoints bundled in the package."""
    return main(prog="mlvae-demo")
