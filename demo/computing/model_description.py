"""The About tab and the shortfall line: what the selected model is, what pooling means for it, its limits and its
model card, every sentence true of that model. The card's figures are shown as files Gradio serves from its own
cache (never a link into the server's checkpoint folder); no server path is written anywhere."""
from __future__ import annotations

import re
from pathlib import Path

from mlvae.config import RunConfig, model_departures
from mlvae.grouping import AlbumSettings
from mlvae.model_kinds import MODEL_KINDS

from ..models import DemoModel

FIGURE = re.compile(r"^!\[([^\]]*)\]\(([^)\s]+)\)\s*$", re.MULTILINE)  # a card line holding one image
CARD_LINK = "the model card in the About tab"


def shortfall_note(m: DemoModel | None) -> str:
    """One line, under the model picker on every tab, when the selected model's card says it misses a goal."""
    if m is None or not m.shortfall:
        return ""
    return f"**This model falls short of its goals:** {m.shortfall} Details: {CARD_LINK}."


def card_figures(m: DemoModel | None) -> list[tuple[str, str]]:
    """(file, caption) of each figure the card shows that exists in its checkpoint folder."""
    if m is None or not m.card:
        return []
    root = m.folder.resolve()
    found = []
    for caption, link in FIGURE.findall(m.card):
        path = (root / link).resolve()
        if path.is_relative_to(root) and path.is_file():
            found.append((str(path), caption.replace("_", " ")))
    return found


def card_text(m: DemoModel) -> str | None:
    """The card without its image lines (its figures are shown beside the text)."""
    if not m.card:
        return None
    text = re.sub(r"\n{3,}", "\n\n", FIGURE.sub("", m.card))
    return re.sub(r"## Figures\n+(?=## |\Z)", "## Figures\n\nThey are shown below the card.\n\n", text)


def pooling(m: DemoModel) -> str:
    """What pooling means, as far as this model's card supports it."""
    group = m.kind.group
    text = (f"The content posterior of a group is the **product** of the evidence of its images (paper eq. 7): "
            f"precisions add, so every image of the same {group} makes the content more certain (the chart in "
            "*Pool evidence*). The reconstructions with the pooled content all decode that one content code, each "
            "with its own style. ")
    if m.shortfall:
        return text + (f"How well one content code shows one {group} is measured in the model card, and this "
                       "checkpoint falls short there (*Below its goals*, above): do not expect the pooled "
                       f"reconstructions to show one {group} reliably.")
    return text + f"How well one content code shows one {group} is measured in the model card below."


def album_mode(m: DemoModel) -> str:
    """What the Album tab does with this model, and which grouping the checkpoint's evaluation chose for it."""
    group, item = m.kind.group, m.kind.words.item
    settings = AlbumSettings.read(m.folder)
    chosen = (f"This checkpoint's grouping ({settings.method}, temperature {settings.temperature:g}) was chosen on "
              f"{settings.calibration_albums} albums of **training** {group}s ({settings.albums})"
              if settings.calibration_albums else
              "This checkpoint has no `album.json` from `python -m mlvae.evaluate --album`, so the grouping is untuned "
              "(temperature 1)")
    return (f"The *Album* tab groups a mixed, unlabelled album by {group}: it merges {item}s while the evidence that "
            "they share **one content** (the product of Normals' normaliser against the prior, paper eq. 7) beats "
            f"each keeping its own, so it finds the number of {group}s itself. {chosen}. How well it groups unseen "
            f"{group}s (adjusted Rand index, purity, how often the count is right, against raw pixels and other "
            "references) is in the model card's *Album mode* section below.")


def departures(config: RunConfig) -> str:
    """How this checkpoint departs from the paper, in words ("" when it does not): terms trained beside the ELBO
    and changes to the networks (``mlvae.config.model_departures``)."""
    train = config.train
    terms = [text for weight, text in (
        (train.feature_weight, "a feature-consistency term (reconstructions compared with the photos in the "
                               "project's own face network, trained on the training people only)"),
        (train.adversarial_weight, "an adversarial patch term on the reconstructions"),
        (train.frequency_weight, "a focal frequency term on the reconstructions"),
    ) if weight]
    parts = [f"trained with {'; '.join(terms)} beside the ELBO"] if terms else []
    parts += model_departures(config.model)
    if not parts:
        return ""
    return "; ".join(parts) + "; the objective's inference (posteriors, product of Normals, KL terms) is the paper's"


def limits(m: DemoModel) -> list[str]:
    """The limits of this model and of the demo, as list items."""
    c = m.config.data
    group = m.kind.group
    items = [f"The networks are small and see {c.image_size} x {c.image_size} {m.kind.colour} images: outputs "
             "are blurry."]
    if c.align_faces:
        items.append("Each photo's largest face is found and aligned as in training; a photo without a face is "
                     "left out, and faces far from the training photos (profile views, strong lighting) are "
                     "reconstructed poorly.")
    elif m.kind.takes_drawings:
        items.append("Drawings and photos on a light background are inverted to MNIST's white ink on black and "
                     "framed the MNIST way; other images are taken as they are.")
    else:
        items.append(f"Photos are centre-cropped ({c.crop_fraction:g} of the shorter side) the way the training "
                     "photos were: put the subject in the middle.")
    items += [f"Pooling assumes that all images of a group show the same {group}; mixing them pools their "
              "evidence anyway.",
              "Nothing you upload is stored beyond the running server's temporary files."]
    return [f"- {item}" for item in items]


def about(m: DemoModel | None) -> str:
    """Markdown: what the model is, what pooling means, the model card's numbers, the limits."""
    if m is None:
        return "No model is loaded, so there is nothing to describe yet."
    c = m.config
    arch = ("MLP (supplement §2.1, MNIST)" if c.model.architecture == "mlp"
            else f"convolutional (supplement §2.1), width x{c.model.width:g}")
    params = sum(p.numel() for p in m.model.parameters())
    kind = MODEL_KINDS.get(c.model.model_type)
    model_type = kind.description if kind else c.model.model_type
    lines = [
        f"## {m.label}",
        f"- **Model**: {model_type}, {params / 1e6:.2f} M parameters, {arch}; content d = {c.model.latent_dim}, "
        f"style d = {c.model.style_size}; group posterior: {c.model.posterior} of Normals; {c.model.likelihood} "
        "likelihood.",
        f"- **Inputs**: {c.data.image_size} x {c.data.image_size}, {m.kind.colour}, "
        + ("the largest face in each photo found and aligned (eyes level, at a fixed place and distance), as in "
           "training; a photo without a face is left out with a message" if c.data.align_faces
           else f"centre crop of {c.data.crop_fraction:g} of the shorter side, as in training")
        + ("; light-background drawings are inverted to MNIST's white on black." if m.kind.takes_drawings else "."),
        f"- **Checkpoint**: `{m.name}`" + ("" if Path(m.source).expanduser().exists() else f" (Hub repo `{m.source}`)")
        + f"; trained on `{c.data.dataset}`"
        + (f" for {c.train.epochs} epochs" if c.train.epochs else "")
        + (f", starting from the weights of `{c.train.init_from}`." if c.train.init_from else "."),
        *([f"- **Departure from the paper**: {departures(c)} (the model card says what and why)."]
          if departures(c) else []),
        *([f"- **Below its goals**: {m.shortfall} (details in the model card below)."] if m.shortfall else []),
        "",
        "## What the model is",
        "An encoder maps each image *x* to two Normal posteriors: its **style** *S* and its **evidence** about the "
        "group's **content** *C*. A decoder draws an image from (*C*, *S*). Training uses groups of images that "
        f"share a content (here: images of one {m.kind.group}) and no other labels.",
        "",
        "## What pooling means",
        pooling(m),
        "",
        "## Album mode",
        album_mode(m),
        "",
        "## Limits",
        *limits(m),
        "",
        "## The model card",
        card_text(m) or "_This checkpoint has no model card (README.md), so there are no evaluation numbers to show._",
    ]
    return "\n".join(lines)
