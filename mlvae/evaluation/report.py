"""The evaluation's Markdown: the classifier table and ``report.md`` that shows every figure."""
from __future__ import annotations

from dataclasses import dataclass, field

from mlvae.evaluation.supplement_probe import (
    checkpoint_ks as table_ks,  # the table shows the k the classifier is validated at
)


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
cross-entropy averaged over the k of the table. Cross-entropy is in bits: an upper bound on H(class | features)
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


def report_header(context: ReportContext) -> list[str]:
    """The report's title and the run's facts: model, test set, figure settings, run time, notes."""
    mode = "posterior means" if context.figure_mode == "mean" else "one posterior sample per image"
    return [
        f"# Evaluation of `{context.checkpoint}`",
        "",
        f"- model: {context.model_description}",
        f"- test images: {context.test_description}",
        f"- figures use {mode}; strategy 2 pools up to {context.pool_images} other test images of each input's group",
        f"- run time: {context.seconds:.0f} s",
        *[f"- {note}" for note in context.notes],
        "",
    ]


def figures_markdown(context: ReportContext, files: dict[str, str]) -> list[str]:
    """The qualitative figures (paper figures 4, 5a, 5b, 6a/6b) with their captions."""
    return [
        "Borders: green = test inputs, blue = reconstructions, red = images made from mixed, pooled or sampled "
        "latents.",
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
    ]


def classifier_markdown(results: dict, baselines: list[str], files: dict[str, str]) -> list[str]:
    """Probe (a): the supplement §3 table, its plot and how it was measured."""
    return [
        "## Probe (a): the supplement §3 classifier (paper figure 6c)",
        "",
        *classifier_summary(results),
        "",
        classifier_table(results),
        f"![accuracy and bits against k]({files['classifier_plot']})",
        "",
        protocol_text(results, baselines),
        "",
        f"All values for every k: [`{files['classifier_json']}`]({files['classifier_json']}).",
        "",
    ]


def _feature_label(row: dict) -> str:
    return f"{row['features']} (own image)" if row["k"] is None else f"{row['features']}, k = {row['k']}"


def probe_table(results: dict) -> str:
    """Markdown table: per feature kind and pooling level, each probe's test accuracy (%) and bits."""
    probes = sorted(results["probes"], key=lambda p: results["probes"][p]["hidden_layers"])  # linear first
    header = ["features"] + [f"{p} acc. (%)" for p in probes] + [f"{p} bits" for p in probes]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for row in results["rows"]:
        cells = [_feature_label(row)] + [f"{100 * row['accuracy'][p]:.1f}" for p in probes]
        cells += [f"{row['bits'][p]:.2f}" for p in probes]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


PROBE_TEXT = """Each probe is trained and tested at the same pooling level k on posterior **means**: per class, {fit}
images to fit and {val} for early stopping (together {train} training images), and {test} other test images
to test on ({test_total} in all), image-disjoint; the images pooled into a feature come from the same part.
**linear**: softmax regression on the code; **MLP**: two tanh layers of {hidden} units. Chance: {chance:.1f}%
({classes} classes, balanced). **S** is each image's own style; **C, k** its content pooled (product of Normals)
with k - 1 other images of its class{baseline_text}. What it measures: how much of the class the code of one
image (or of k pooled images) holds, as far as a read-out of this size finds it (a lower bound). Probe (a) differs
on purpose: it trains on posterior samples of only K images per class pooled over all K and tests at k = 1..K,
so it measures how a classifier of tightly pooled content carries over to wider posteriors; its sampling noise
and small training set make it read less of the class than these probes, from S and from C at small k."""


def probe_markdown(results: dict, baselines: list[str], files: dict[str, str] | None = None) -> list[str]:
    """Probe (b): linear and MLP probes on posterior means, with what they measure."""
    c = results["config"]
    baseline_text = (f"; **{', '.join(baselines)}, k**: the baseline's whole latent pooled the same way"
                     if baselines else "")
    text = PROBE_TEXT.format(
        fit=results["fit_images"] // results["num_classes"], val=results["val_images"] // results["num_classes"],
        train=results["fit_images"] + results["val_images"], test=results["test_images"] // results["num_classes"],
        test_total=results["test_images"], hidden=c["hidden_units"], chance=100 * results["chance_accuracy"],
        classes=results["num_classes"], baseline_text=baseline_text,
    )
    link = [f"All values: [`{files['probe_json']}`]({files['probe_json']}).", ""] if files else []
    return ["## Probe (b): linear and MLP probes on posterior means", "", probe_table(results), text, "", *link]


JUDGE_ROWS = {
    "input": "the real test image x_a (the judge's ceiling)", "recon": "x_a's own style and content, judged a",
    "pooled": "x_a's style, content pooled from k other images of a, judged a",
    "swap->C": "x_a's style, content pooled from k images of b, judged b",
    "swap->S": "the same swap judged a (low is good: the style does not carry the class)",
    "pairwise": "the same swap scores higher for b than for a (chance 50%)",
    "gen": "b's pooled content with styles from the prior N(0, I), judged b",
}


def judge_markdown(judge: dict, files: dict[str, str] | None = None) -> list[str]:
    """The class judge's figures: % of trials per figure, with the judge's own accuracy on real test images."""
    lines = ["| figure | % of trials | decoded image |", "|---|---:|---|"]
    lines += [f"| {name} | {judge['figures'][name]:.1f} | {text} |" for name, text in JUDGE_ROWS.items()
              if name in judge["figures"]]
    return [
        "## Swap judge: a classifier trained on real images reads the decoded images",
        "",
        f"A small CNN (`mlvae.evaluation.class_judge`) trained on the {judge['train_images']} real **training** "
        f"images (never on model outputs, {judge['epochs']} epochs) classifies decoded images; on the real test "
        "images it is right "
        f"**{judge['test_accuracy']:.1f}%** of the time. Each of {judge['trials']} trials draws two classes a != b, a "
        f"test image x_a, k = {judge['k']} other test images of a and k of b, and decodes posterior means; the judge "
        f"chooses among the {judge['groups']} classes (chance {100 / judge['groups']:.1f}%).",
        "",
        "\n".join(lines),
        "",
        *([f"All values: [`{files['judge_json']}`]({files['judge_json']}).", ""] if files else []),
    ]


def render_report(context: ReportContext, sections: list[list[str]]) -> str:
    """``report.md``: the run's facts, then each section's Markdown lines in order."""
    return "\n".join(report_header(context) + [line for section in sections for line in section])
