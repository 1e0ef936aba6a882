#!/usr/bin/env python3
"""Rebuilds the training data: the named emoji (emoji.py: npm pack from the registry, rendered, into
build/tinymodel/emoji) and a look at the shapes (a sample sheet, its captions and the held-out triples).

  /usr/bin/python3 tools/tinymodel/build_data.py --out build/tinymodel/data

Training draws fresh shapes from the same seeded generator (shapes.py), so those need no storing; the sheet
makes them inspectable and proves they rebuild identically from the code alone.
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image

import emoji
import shapes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="build/tinymodel/data")
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--emoji-out", default="build/tinymodel/emoji")
    p.add_argument("--npm-cache", default="build/tinymodel/npm")
    args = p.parse_args()
    emoji.build(args.emoji_out, args.npm_cache)
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    samples = [shapes.sample(rng) for _ in range(args.count)]
    rows = [np.concatenate([img for img, _ in samples[i:i + 8]], axis=1) for i in range(0, len(samples), 8)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(os.path.join(args.out, "samples.png"))
    with open(os.path.join(args.out, "captions.txt"), "w") as f:
        f.write("\n".join(caption for _, caption in samples) + "\n")
    with open(os.path.join(args.out, "held_out.json"), "w") as f:
        json.dump(shapes.held_out_triples(), f, indent=1)
    print(f"wrote {args.count} samples, captions and {len(shapes.HELD_OUT)} held-out triples to {args.out}")


if __name__ == "__main__":
    main()
