"""Turn a finished training run and its evaluation into a shipped checkpoint folder with a model card.

    python -m scripts.ship_checkpoint --run runs/mnist --name mnist --eval runs/mnist/eval \
        --command "python -m mlvae.train ..." --hardware "2-core CPU"

Writes checkpoints/<name>/: config.json, model.safetensors (float16 with --half, checked against float32),
split.json, figures/ (copied from the evaluation) and README.md (the model card, with measured figures in its
front matter that tests/test_shipped_checkpoints.py measures again), rendered by mlvae.evaluation.model_card:
the texts given (--departure, --variants, --limits, --shortfall) may quote the front matter's figures as
{figure:identity.faces-celeba200.recon}, and sections of the card it replaces that the template does not write
are kept.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
from pathlib import Path

from PIL import Image

from mlvae import latent, load_model, save_model
from mlvae.checkpoint.folder import SHIPPED_DIR, SPLIT_NAME, find_split, resolve_checkpoint, write_json
from mlvae.config import data_dir_list, stored_data_dir
from mlvae.data.images import to_float
from mlvae.data.loading import portable_name
from mlvae.evaluation.card_metrics import card_metrics
from mlvae.evaluation.goals import DEFAULT_GOALS, IdentityGoals, parse_goal
from mlvae.evaluation.held_out import load_test_images
from mlvae.evaluation.identity import identity_markdown, identity_report
from mlvae.evaluation.model_card import CardFacts, card_front_matter, identity_row, render_card
from mlvae.evaluation.report import judge_markdown, probe_markdown, protocol_text
from mlvae.evaluation.swap_trials import FIGURES, TrialResult

FEATURE_FOLDER = "face-features"

DATA = {
    "mnist": (
        "MNIST handwritten digits (LeCun, Cortes & Burges), grouped by digit label: the paper's seeded "
        "50,000 / 10,000 train / validation split of the 60,000 training images, and the standard 10,000 test "
        "images. No MNIST image ships: the figures below show decoded images only (inputs replaced by their "
        "reconstructions, `--decoded-only`).",
        ["mnist"],
    ),
    "faces": (
        "Two face collections together, grouped by person: CelebA (Liu, Luo, Wang & Tang, ICCV 2015), a subset of "
        "200 identities x 30 aligned-and-cropped photos, and LFW (Huang et al. 2007, deep-funneled), 1,630 people "
        "with 2 to 530 photos each (8,537 photos). Every photo's largest face is found and aligned by "
        "`mlvae.data.faces` "
        "(dlib's detector and 5-point landmarks; a similarity transform to the framing of dlib's face recogniser: "
        "eyes level, at a fixed place and distance) at 64x64; photos with no face found are left out. Each "
        "collection is split **by person** into train / validation / test (80 / 10 / 10%, `split.json`), so the "
        "test people are people the model never saw. An epoch draws at most 30 photos of one person; training "
        "images are mirrored at random. Neither collection may be redistributed (CelebA: non-commercial research "
        "and education only; LFW: research use): **no photo ships with this checkpoint**, and the figures below "
        "show decoded images only (inputs replaced by their reconstructions, `--decoded-only`). Use these weights "
        "under the same non-commercial research terms.",
        ["celeba", "lfw"],
    ),
}


def portable(data_dir: str | list[str] | None) -> str | list[str] | None:
    """A recorded ``data_dir`` with each folder named relative to $MLVAE_DATA_DIR: no build machine's path ships."""
    return stored_data_dir([portable_name(d) for d in data_dir_list(data_dir)])


def identity_goals(text: str) -> IdentityGoals:
    """``'recon>=75,swap->S<=10'`` -> the goals, with the default display names of the data folders."""
    figures = {}
    for item in text.split(","):
        at = min((i for i in (item.find(">="), item.find("<=")) if i >= 0), default=-1)
        if at <= 0:
            raise SystemExit(f"--identity-goals: {item!r} is not FIGURE>=VALUE or FIGURE<=VALUE (e.g. recon>=75)")
        figures[item[:at].strip()] = parse_goal(item[at:])
    return IdentityGoals(figures, DEFAULT_GOALS.source_names)


def figure_list(eval_dir: Path, keys: list[str]) -> list[str]:
    return [k for k in keys if (eval_dir / f"{k}.png").exists()]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="training run folder (its best/ is shipped unless --weights last)")
    p.add_argument("--weights", choices=("best", "last"), default="best",
                   help="best: the validation-ELBO-selected checkpoint; last: the weights after the last epoch "
                        "(for a run whose added term trades ELBO for something the ELBO does not measure)")
    p.add_argument("--name", required=True, choices=sorted(DATA), help="shipped name")
    p.add_argument("--eval", required=True, help="python -m mlvae.evaluate output folder of this run")
    p.add_argument("--cross-eval", default=None, help="evaluation folder on another dataset (faces: LFW)")
    p.add_argument("--baseline-run", default=None, help="the VAE baseline run whose line is in the table")
    p.add_argument("--figures", default="swap_strategy2,interpolation,generation", help="figures to copy")
    p.add_argument("--command", required=True, help="the exact training command")
    p.add_argument("--eval-command", required=True, help="the exact evaluation command(s)")
    p.add_argument("--hardware", required=True, help="where it trained")
    p.add_argument("--limits", default="", help="known limits (Markdown)")
    p.add_argument("--shortfall", default=None,
                   help="one line on the goals the model misses (front matter mlvae.shortfall; the demo shows it)")
    p.add_argument("--departure", default=None,
                   help="a Markdown file: what the training does that the paper does not, and why (shown near the top)")
    p.add_argument("--identity-goals", default=None,
                   help="the identity judge's goals the card states, e.g. 'recon>=75,pooled>=75,swap->C>=60,"
                        "swap->S<=10,pairwise>=95,gen>=60' (default: mlvae.evaluation.goals.DEFAULT_GOALS)")
    p.add_argument("--variants", default=None,
                   help="a Markdown file: the training variants tried and what each measured")
    p.add_argument("--half", action="store_true", help="store float16 weights")
    p.add_argument("--init-from-path", default=None,
                   help="where the weights the run started from (--init-from) are kept now, recorded in the shipped "
                        "config (e.g. when the run started from the checkpoint it replaces)")
    p.add_argument("--data-dir", action="append", default=None,
                   help="where the test images are; repeat for a run trained on several folders "
                   "(default: the run's config)")
    args = p.parse_args()

    run, eval_dir, dest = Path(args.run), Path(args.eval), SHIPPED_DIR / args.name
    model, config = load_model(run / "last" if args.weights == "last" else run)
    dest.mkdir(parents=True, exist_ok=True)
    train = config.train
    if train.feature_net:  # the face network the feature term used ships beside the weights that used it
        shutil.copytree(train.feature_net, dest / FEATURE_FOLDER, dirs_exist_ok=True)
        train = dataclasses.replace(train, feature_net=f"{SHIPPED_DIR.name}/{args.name}/{FEATURE_FOLDER}")
    if args.init_from_path:
        train = dataclasses.replace(train, init_from=args.init_from_path)
    save_model(dest, model, dataclasses.replace(
        config, data=config.data.with_data_dirs(portable(config.data.data_dir)), train=train), half=args.half)
    split = find_split(resolve_checkpoint(run))
    if split is None:
        raise SystemExit(f"{run} has no {SPLIT_NAME}: ship a run folder that training wrote")
    write_json(dest / SPLIT_NAME, {**split, "data_dir": portable(split["data_dir"])} if "data_dir" in split else split)
    shipped, _ = load_model(dest)
    test = load_test_images(resolve_checkpoint(run), config.data, args.data_dir)
    x = to_float(test.images[:256])
    drift = (latent.reconstruct(shipped, x) - latent.reconstruct(model, x)).abs().max().item()
    if drift > 2e-2:
        raise SystemExit(f"float16 weights change reconstructions by {drift:.3g}: ship float32 (drop --half)")
    metrics = card_metrics(shipped, config, test)

    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    (dest / "figures").mkdir(exist_ok=True)
    figs = figure_list(eval_dir, args.figures.split(","))
    for key in figs:  # 256-colour PNGs: a few hundred KB less each, no visible change at this size
        with Image.open(eval_dir / f"{key}.png") as figure:
            figure.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
                dest / "figures" / f"{key}.png", optimize=True)
    table = (eval_dir / "classifier.md").read_text().strip()
    protocol = json.loads((eval_dir / "classifier.json").read_text())
    baselines = list(protocol.get("baselines", {}))
    measured = [protocol_text(protocol, baselines), ""]
    if (eval_dir / "probe.json").exists():
        measured += probe_markdown(json.loads((eval_dir / "probe.json").read_text()), baselines)
    if (eval_dir / "judge.json").exists():
        measured += judge_markdown(json.loads((eval_dir / "judge.json").read_text()))
    identity = None
    goals = identity_goals(args.identity_goals) if args.identity_goals else DEFAULT_GOALS
    if (eval_dir / "identity.json").exists():
        identity = json.loads((eval_dir / "identity.json").read_text())
        results = {s: TrialResult({f: v[f] for f in FIGURES}, v["groups"], v["trials"], v["k"])
                   for s, v in identity.items()}
        measured += identity_report(identity_markdown(results, goals).strip(), None) + [
            "```bash", "python -m mlvae.evaluate faces --identity --data-dir $MLVAE_DATA_DIR/faces-celeba200 "
            "--data-dir $MLVAE_DATA_DIR/faces-lfw", "```", ""]
    cross = (Path(args.cross_eval) / "classifier.md").read_text() if args.cross_eval else ""
    metadata = card_front_matter(args.name, DATA[args.name][1], metrics, identity, goals, args.shortfall)
    facts = CardFacts(
        name=args.name, model=config.model, data_text=DATA[args.name][0], command=args.command,
        eval_command=args.eval_command, hardware=args.hardware, epochs=rows, classifier_table=table,
        measured=measured, weights=args.weights, dtype="float16" if args.half else "float32",
        size_mb=(dest / "model.safetensors").stat().st_size / 2**20, init_from=train.init_from,
        departure=Path(args.departure).read_text() if args.departure else "",
        variants=Path(args.variants).read_text() if args.variants else "", cross=cross, figures=figs,
        limits=args.limits,
    )
    earlier = dest / "README.md"
    card = render_card(metadata, facts, earlier.read_text() if earlier.exists() else None)
    (dest / "README.md").write_text(card)
    print(json.dumps(metrics, indent=2))
    if identity is not None:  # the README's faces table quotes these rows (tests/test_model_card.py holds it to them)
        print("\n".join(identity_row(metadata["mlvae"], source, goals.name(source)) for source in identity))


if __name__ == "__main__":
    main()
