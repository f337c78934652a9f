"""Album mode's speed: grouping an album of prepared images (real test images of the shipped checkpoints).

Times, per album size, the encoder pass, the evidence grouping (``mlvae.grouping``, with the checkpoint's
``album.json`` settings), the reference clustering of the means, and decoding each group's pooled identity:
the time from prepared images to groups on screen. Median of ``--repeats`` runs, torch on ``--threads`` threads.

  python -m benchmarks.album_grouping                  # both shipped models, 100 and 200 images, 2 threads
  python -m benchmarks.album_grouping --sizes 50,100 --models mnist
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from mlvae import latent
from mlvae.checkpoint.folder import load_model, resolve_checkpoint
from mlvae.data.images import to_float
from mlvae.evaluation.held_out import load_test_images
from mlvae.grouping import AlbumSettings, decode_identities, group_album


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="mnist,faces", help="checkpoints, comma-separated (default: mnist,faces)")
    p.add_argument("--sizes", default="100,200", help="album sizes, comma-separated (default: 100,200)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default: 2)")
    p.add_argument("--repeats", type=int, default=5, help="runs per figure; the median is printed (default: 5)")
    return p.parse_args()


def timed(step, repeats: int) -> tuple[float, object]:
    """Median seconds of ``repeats`` calls of ``step`` and its last result."""
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = step()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), result


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}; median of {args.repeats} runs; seconds")
    print("| model | images | encode | evidence grouping | means grouping | pooled identities | total (encode + "
          "evidence + identities) | groups found |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name in args.models.split(","):
        folder = resolve_checkpoint(name)
        model, config = load_model(folder)
        settings = AlbumSettings.read(folder)
        test = load_test_images(folder, config.data)
        for size in (int(s) for s in args.sizes.split(",")):
            pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:size]
            images = to_float(test.images[pick])
            encode_s, encoding = timed(lambda m=model, x=images: latent.encode(m, x), args.repeats)
            content = encoding.content
            group_s, grouping = timed(lambda c=content, t=settings.temperature: group_album(c, "evidence", None, t),
                                      args.repeats)
            means_s, _ = timed(lambda c=content: group_album(c, "means"), args.repeats)
            decode_s, _ = timed(lambda m=model, c=content, g=grouping: decode_identities(m, c, g.labels), args.repeats)
            print(f"| {name} | {size} | {encode_s:.3f} | {group_s:.3f} | {means_s:.3f} | {decode_s:.3f} | "
                  f"{encode_s + group_s + decode_s:.3f} | {grouping.count} |")


if __name__ == "__main__":
    main()
