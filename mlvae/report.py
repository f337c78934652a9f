"""The evaluation's Markdown: the classifier table and ``report.md`` that shows every figure."""
from __future__ import annotations

from dataclasses import dataclass, field

TABLE_KS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30, 50, 75, 100)


def table_ks(max_k: int) -> list[int]:
    """The k shown in the Markdown table: 1..10, then a few larger, always K itself."""
    return sorted({k for k in TABLE_KS if k <= max_k} | {max_k})


def _cell(summary: dict, k: int, digits: int, percent: bool = False) -> str:
    mean, std = summary["mean"][k - 1], summary["std"][k - 1]
    if percent:
        return f"{100 * mean:.{digits}f} ± {100 * std:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def classifier_table(results: dict) -> str:
    """Markdown table: per k, accuracy (%) and cross-entropy (bits) of each feature kind, mean ± std over trials."""
    names = list(results["features"])
    header = ["k"] + [f"{n} acc. (%)" for n in names] + [f"{n} bits" for n in names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    for k in table_ks(len(results["k"])):
        row = [str(k)]
        row += [_cell(results["features"][n]["accuracy"], k, 1, percent=True) for n in names]
        row += [_cell(results["features"][n]["bits"], k, 2) for n in names]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def classifier_summary(results: dict) -> list[str]:
    """One line per feature kind: accuracy at k = 1, at K, and its range over k."""
    lines = []
    K = len(results["k"])
    for name, feature in results["features"].items():
        acc = feature["accuracy"]["mean"]
        lines.append(
            f"- **{name}**: accuracy {100 * acc[0]:.1f}% at k = 1, {100 * acc[-1]:.1f}% at k = {K} "
            f"(range {100 * min(acc):.1f}-{100 * max(acc):.1f}% over k); "
            f"{feature['bits']['mean'][0]:.2f} bits at k = 1, {feature['bits']['mean'][-1]:.2f} at k = {K}"
        )
    lines.append(
        f"- chance: {100 * results['chance_accuracy']:.1f}% accuracy, {results['chance_bits']:.2f} bits "
        f"({results['num_classes']} classes)"
    )
    return lines


@dataclass
class ReportContext:
    """What ``report.md`` says about the run besides the figures."""

    checkpoint: str
    model_description: str
    test_description: str
    baselines: list[str] = field(default_factory=list)
    figure_mode: str = "mean"
    pool_images: int = 10
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


PROTOCOL_TEXT = """The classifier of supplement §3 (linear {hidden} -> tanh -> linear -> softmax, Adam lr {lr}) is
trained on latent features of **test** images. In each of {trials} trials, each of the {classes} classes
with at least 3K = {three_k} test images gives K = {K} images each to the classifier's own train, validation
and test sets (disjoint; trials use disjoint images where the classes hold enough). Training features pool
the K training images of the class; at test time each image is pooled with k - 1 other test images of its
class, k = 1..K, by the product of Normals (paper eq. 7). The features are the pooled posterior's
**{mode}**{mode_note}. **S** is the style of the image itself at every k: the style is per image, so
pooling does not apply and its line is flat by construction (up to fresh feature draws). **C** is the pooled content.
{baseline_text}Early stopping (patience {patience} epochs, at most {max_epochs}) uses the validation
cross-entropy averaged over every k = 1..K. Cross-entropy is in bits: an upper bound on H(class | features)
(supplement eq. 6). Values are the mean ± standard deviation over trials."""


def protocol_text(results: dict, baselines: list[str]) -> str:
    """The protocol paragraph of the report, filled with the run's settings."""
    p = results["protocol"]
    baseline_text = (
        f"**{', '.join(baselines)}**: the baseline's whole latent (content and style halves together), pooled "
        "over k images in the same way, as the paper does for the plain VAE. "
        if baselines else "No baseline checkpoint was given (`--baseline`), so the table has no VAE line. "
    )
    return PROTOCOL_TEXT.format(
        hidden=p["hidden_units"], lr=p["lr"], trials=p["trials"], classes=results["num_classes"],
        three_k=3 * p["max_k"], K=p["max_k"], mode=p["feature_mode"],
        mode_note=" (one draw per image, supplement eq. 4; training features are re-drawn every epoch)"
        if p["feature_mode"] == "sample" else "",
        baseline_text=baseline_text, patience=p["patience"], max_epochs=p["max_epochs"],
    )


def render_report(context: ReportContext, results: dict, files: dict[str, str]) -> str:
    """``report.md``: model, test set, every figure with its caption, the table and how it was measured."""
    mode = "posterior means" if context.figure_mode == "mean" else "one posterior sample per image"
    lines = [
        f"# Evaluation of `{context.checkpoint}`",
        "",
        f"- model: {context.model_description}",
        f"- test images: {context.test_description}",
        f"- figures use {mode}; strategy 2 pools up to {context.pool_images} other test images of each input's group",
        f"- run time: {context.seconds:.0f} s",
        *[f"- {note}" for note in context.notes],
        "",
        "Borders: green = test inputs, blue = reconstructions, red = images made from mixed, pooled or sampled latents.",
        "",
        "## Swapping (paper figure 4)",
        "",
        "First row and column: test inputs; second row and column: their reconstructions; every other image has "
        "the **style of its row** and the **content of its column**.",
        "",
        "Strategy 1: every test image is its own group (no pooling).",
        "",
        f"![swap, strategy 1]({files['swap_strategy1']})",
        "",
        f"Strategy 2: each input's content is pooled with up to {context.pool_images} other test images of its group.",
        "",
        f"![swap, strategy 2]({files['swap_strategy2']})",
        "",
        "## Interpolation (paper figure 5b)",
        "",
        "Top left and bottom right: the two test inputs (strategy 2). Rows move the **content** from the first to the "
        "second input, columns move the **style**.",
        "",
        f"![interpolation]({files['interpolation']})",
        "",
        "## Generation (paper figure 5a)",
        "",
        "Each row: test images of one group (green), then images decoded from the mean of their pooled content "
        "with styles drawn from the prior N(0, I) (red).",
        "",
        f"![generation]({files['generation']})",
        "",
        "## Accumulating evidence (paper figure 6a/6b)",
        "",
        "Per group, three columns: the test images, their reconstructions without pooling (strategy 1), and with "
        "the content pooled over the group's images shown (strategy 2).",
        "",
        f"![pooled vs unpooled reconstructions]({files['pooling']})",
        "",
        "## Quantitative evaluation (supplement §3, paper figure 6c)",
        "",
        *classifier_summary(results),
        "",
        classifier_table(results),
        f"![accuracy and bits against k]({files['classifier_plot']})",
        "",
        protocol_text(results, context.baselines),
        "",
        f"All values for every k: [`{files['classifier_json']}`]({files['classifier_json']}).",
        "",
    ]
    return "\n".join(lines)
