"""A shipped checkpoint's model card, rendered from one template and its front matter.

The front matter (``mlvae:``) holds the measured figures; the card's body, the texts written for it (its departure,
variants, limits, its shortfall line) and the README's table quote them from there, so that a reship changes a
figure in one place. A text quotes a figure as ``{figure:identity.faces-celeba200.recon}`` (a path of keys under
``mlvae:``; numbers are written with one decimal). Sections that an earlier card holds and the template does not
write (an album table, say) are kept when the card is rendered again.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlvae.checkpoint.card import front_matter, parse_card
from mlvae.config import ModelConfig
from mlvae.evaluation.goals import IdentityGoals, goals_front_matter
from mlvae.evaluation.identity import missed_goals
from mlvae.evaluation.swap_trials import FIGURES, TrialResult

FIGURE = re.compile(r"\{figure:([^{}\s]+)\}")
# the sections the template writes (by the start of their heading): an earlier card's other sections are kept
TEMPLATE_SECTIONS = ("Departure from the paper", "Data", "Training", "Test set", "Probe", "Swap judge",
                     "Identity judge", "Cross-dataset check", "Figures", "Known limits")
CARD_TAGS = ["ml-vae", "vae", "disentanglement", "grouped-data", "pytorch"]

CARD_TEMPLATE = """
# ML-VAE — {name}

A Multi-Level VAE (Bouchacourt, Tomioka & Nowozin) trained with this project's `python -m mlvae.train`.
Content latent of d = {latent_dim}, style latent of d = {style_dim}; {architecture} networks of supplement §2.1
(width x{width:g}); {likelihood} likelihood{sigma}; product-of-Normals group posterior.
Weights: `model.safetensors` ({dtype}, {size_mb:.1f} MB); `config.json` rebuilds the model.

```python
import mlvae
model, config = mlvae.load_model("{name}")   # or this folder's path, or its Hub repo id
```
{departure}
## Data

{data_text}

## Training

```bash
{command}
```

{epochs} epochs, {steps} optimiser steps, {hours:.2f} h on {hardware}.{started_from}
{selected}

## Test set

{test_images} test images in {test_groups} groups: ELBO {test_elbo_per_image:.1f} nats per
image; reconstruction error (posterior means, no pooling) {test_reconstruction_mse:.4f} per pixel against
{mean_image_mse:.4f} for the mean test image.

## Probe (a): the supplement §3 classifier

Accuracy (%) and cross-entropy (bits), mean ± spread over trials, against the number k of test images pooled
into the content:

{classifier_table}

{measured}
```bash
{eval_command}
```
{variants}{cross}
## Figures

{figures}

## Known limits

{limits}
"""


@dataclass
class CardFacts:
    """What a card says beside its measured figures: the run's model, commands and texts (Markdown)."""

    name: str  # the shipped name (mnist, faces)
    model: ModelConfig
    data_text: str  # where the images came from, and their terms
    command: str  # the exact training command(s)
    eval_command: str
    hardware: str
    epochs: list[dict]  # the run's metrics.jsonl rows
    classifier_table: str  # probe (a)'s Markdown table
    measured: list[str] = field(default_factory=list)  # the further sections' lines (probes, judges)
    weights: str = "best"  # best: validation-selected; last: the weights after the last epoch
    dtype: str = "float32"
    size_mb: float = 0.0
    init_from: str | None = None
    departure: str = ""  # what the training does that the paper does not
    variants: str = ""  # the variants tried and what each measured
    cross: str = ""  # probe (a)'s table on another collection
    figures: list[str] = field(default_factory=list)  # names of the PNGs in figures/
    limits: str = ""


def card_front_matter(name: str, datasets: list[str], metrics: Mapping[str, Any],
                      identity: dict[str, dict] | None = None, goals: IdentityGoals | None = None,
                      shortfall: str | None = None) -> dict[str, Any]:
    """The card's front matter: Hub fields and, under ``mlvae:``, the measured ``metrics``, the identity judge's
    figures and goals, and the shortfall line (``shortfall`` may quote the figures; without one, a model that
    misses an identity goal gets the missed goals listed)."""
    figures: dict[str, Any] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in metrics.items()}
    metadata = {"library_name": "mlvae", "license": "other" if name == "faces" else "mit", "tags": list(CARD_TAGS),
                "datasets": list(datasets), "mlvae": figures}
    if shortfall:
        figures["shortfall"] = shortfall
    if identity is not None and goals is not None:
        figures["identity"] = identity
        figures.update(goals_front_matter(goals))  # the goals are the card's (evaluation reads them)
        results = {s: TrialResult({f: v[f] for f in FIGURES}, v["groups"], v["trials"], v["k"])
                   for s, v in identity.items()}
        missed = missed_goals(results, goals)
        if missed and not shortfall:  # the demo shows this line beside the model
            figures["shortfall"] = "The identity judge finds " + "; ".join(missed) + "."
    if "shortfall" in figures:
        figures["shortfall"] = quote_figures(figures["shortfall"], figures)
    return metadata


def figure_at(figures: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of keys under ``mlvae:``; KeyError naming the path when there is none."""
    value: Any = figures
    for key in path.split("."):
        if not isinstance(value, Mapping) or key not in value:
            raise KeyError(f"{{figure:{path}}}: the card's front matter has no mlvae.{path}")
        value = value[key]
    return value


def quote_figures(text: str, figures: Mapping[str, Any]) -> str:
    """``text`` with each ``{figure:PATH}`` replaced by that front-matter figure (numbers with one decimal)."""
    def quoted(match: re.Match) -> str:
        value = figure_at(figures, match.group(1))
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    return FIGURE.sub(quoted, text)


def identity_row(figures: Mapping[str, Any], source: str, label: str) -> str:
    """A README table row of a card's identity figures for one test source: ``| label | input | recon | ... |``."""
    cells = " | ".join(f"{figure_at(figures, f'identity.{source}.{f}'):.1f}" for f in FIGURES)
    return f"| {label} | {cells} |"


def sections(body: str) -> dict[str, str]:
    """A card body's ``## `` sections by heading, each with its heading line."""
    found: dict[str, str] = {}
    for part in re.split(r"(?m)^(?=## )", body):
        if part.startswith("## "):
            found[part.split("\n", 1)[0][3:].strip()] = part.rstrip() + "\n"
    return found


def render_card(metadata: dict[str, Any], facts: CardFacts, earlier: str | None = None) -> str:
    """The card (front matter, then the template filled from ``facts`` and the front matter's figures); the
    sections of an ``earlier`` card's text that the template does not write (``TEMPLATE_SECTIONS``) are kept, at
    the end."""
    figures = metadata["mlvae"]
    m, rows = facts.model, facts.epochs
    best, last = max(rows, key=lambda r: r["val_elbo"]), rows[-1]
    selected = (f"Best validation ELBO {best['val_elbo']:.1f} nats per group ({best['val_elbo_per_image']:.1f} per "
                f"image) at epoch {best['epoch']}; that checkpoint is the one shipped."
                ) if facts.weights == "best" else (
                f"The weights after the last epoch ({last['epoch']}) are the ones shipped: validation ELBO "
                f"{last['val_elbo']:.1f} nats per group ({last['val_elbo_per_image']:.1f} per image; the run's best, "
                f"{best['val_elbo']:.1f}, was at epoch {best['epoch']}).")
    started_from = (f" These count this run's part only: it started (`--init-from`) from the weights of "
                    f"`{facts.init_from}`, trained by the commands before it above.") if facts.init_from else ""
    departure = (f"\n## Departure from the paper\n\n{facts.departure.strip()}\n" if facts.departure else "")
    variants = f"\n## Training variants tried\n\n{facts.variants.strip()}\n" if facts.variants else ""
    cross = ("\n## Cross-dataset check\n\nThe same evaluation on another collection, with every group a test "
             f"group:\n\n{facts.cross.strip()}\n") if facts.cross else ""
    body = CARD_TEMPLATE.format(
        name=facts.name, latent_dim=m.latent_dim, style_dim=m.style_size, architecture=m.architecture,
        width=m.width, likelihood=m.likelihood, sigma=f" (sigma {m.sigma:g})" if m.likelihood == "normal-fixed" else "",
        dtype=facts.dtype, size_mb=facts.size_mb, departure=departure, data_text=facts.data_text,
        command=facts.command, epochs=len(rows), steps=last["step"], hours=last["elapsed_s"] / 3600,
        hardware=facts.hardware, started_from=started_from, selected=selected,
        test_images=figures["test_images"], test_groups=figures["test_groups"],
        test_elbo_per_image=figures["test_elbo_per_image"], test_reconstruction_mse=figures["test_reconstruction_mse"],
        mean_image_mse=figures["mean_image_mse"], classifier_table=facts.classifier_table,
        measured="\n".join(facts.measured), eval_command=facts.eval_command, variants=variants, cross=cross,
        figures="\n".join(f"![{k}](figures/{k}.png)" for k in facts.figures), limits=facts.limits,
    )
    body = quote_figures(body, figures)
    if earlier is not None:
        kept = [text for heading, text in sections(parse_card(earlier).body).items()
                if not heading.startswith(TEMPLATE_SECTIONS)]
        body = body.rstrip("\n") + "\n" + "".join("\n" + text for text in kept)
    return front_matter(metadata) + body
