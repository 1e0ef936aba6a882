#!/usr/bin/env python3
"""Builds (renders) a look at the shapes data: a sample sheet, its captions and the held-out triples.

  /usr/bin/python3 tools/tinymodel/build_data.py --out build/tinymodel/data

Training draws fresh samples from the same seeded generator (shapes.py), so nothing needs storing; this
command makes the data inspectable and proves it rebuilds identically from the code alone.
"""
import argparse
import json
import os
import random

import numpy as np
from PIL import Image

import shapes


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="build/tinymodel/data")
    p.add_argument("--count", type=int, default=64)
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
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
