"""High-resolution renders for the embedded upscaler and their 4x area-downsampled low-resolution inputs.

The low-resolution side is what the embedded diffusion model draws: 64-px shapes and emoji on white. The
high-resolution side renders the same content at 256 px: the procedural shapes of tools/tinymodel/shapes.py
drawn at four times the size (same scene generator, coordinates scaled), and the Fluent flat emoji SVGs
(npm fluentui-emoji@1.3.0, MIT) rendered by librsvg's rsvg-convert at 256 px with the geometry emoji.py uses
at 64 (a 56/64 glyph box on white). Noto's art ships as 64-px PNGs only, so it has no high-resolution side.

A fixed held-out set is never trained on: shape scenes from seeds HELD_OUT_SEEDS and every HELD_OUT_EVERY-th
emoji in name order.

  /usr/bin/python3 tools/upscaler/data.py --out build/upscaler      (fetches with npm pack, renders)
"""
import argparse
import io
import os
import random
import subprocess
import sys

import numpy as np
from PIL import Image

sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tinymodel"))
import emoji  # noqa: E402  (tools/tinymodel: package versions and the skin-tone rule)
import shapes  # noqa: E402

SCALE = 4
HR = shapes.SIZE * SCALE  # 256
HELD_OUT_SEEDS = range(900_000, 900_012)
HELD_OUT_EVERY = 25
TRAIN_SHAPES = 3000


def shape_scene(seed):
    """One shape scene of shapes.sample at 256 px: the 64-px generator's geometry, drawn four times larger."""
    calls = []
    original = shapes.draw
    shapes.draw = lambda canvas, shape, colour, size, cx, cy: calls.append((shape, colour, size, cx, cy))
    try:
        shapes.sample(random.Random(seed))
    finally:
        shapes.draw = original
    ys, xs = np.mgrid[0:HR, 0:HR]
    px, py = xs + 0.5, ys + 0.5
    canvas = np.full((HR, HR, 3), 255, dtype=np.uint8)
    for shape, colour, size, cx, cy in calls:
        size, cx, cy = size * SCALE, cx * SCALE, cy * SCALE
        h = size / 2.0
        if shape == "circle":
            inside = (px - cx) ** 2 + (py - cy) ** 2 <= h * h
        elif shape == "square":
            inside = (np.abs(px - cx) <= h) & (np.abs(py - cy) <= h)
        else:
            top, bottom = cy - h, cy + h
            t = (py - top) / size
            inside = (py >= top) & (py <= bottom) & (np.abs(px - cx) <= t * h)
        canvas[inside] = shapes.COLOURS[colour]
    return canvas


def fluent_names(root):
    folder = os.path.join(root, "icons", "flat")
    names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".svg"))
    present = set(names)
    return folder, [n for n in names
                    if not any(n.endswith(t) and n[: -len(t)] + "-default" in present for t in emoji.SKIN_TONES)]


def render_svg(path):
    box = HR * 56 // 64
    png = subprocess.run(["rsvg-convert", "-w", str(box), "-h", str(box), path], check=True, capture_output=True).stdout
    glyph = Image.open(io.BytesIO(png)).convert("RGBA")
    canvas = Image.new("RGB", (HR, HR), (255, 255, 255))
    canvas.paste(glyph, ((HR - box) // 2, (HR - box) // 2), glyph)
    return np.asarray(canvas, dtype=np.uint8)


def downsample(hr):
    """4x area (box) downsample, rounded to bytes: [..., 256, 256, 3] -> [..., 64, 64, 3]."""
    h, w = hr.shape[-3] // SCALE, hr.shape[-2] // SCALE
    blocks = hr.reshape(*hr.shape[:-3], h, SCALE, w, SCALE, 3).astype(np.float32)
    return np.clip(np.round(blocks.mean(axis=(-4, -2))), 0, 255).astype(np.uint8)


def build(out, cache):
    root = fetch_fluent(cache)
    folder, names = fluent_names(root)
    train, held = [], []
    for i, n in enumerate(names):
        (held if i % HELD_OUT_EVERY == 0 else train).append(render_svg(os.path.join(folder, n + ".svg")))
    train += [shape_scene(seed) for seed in range(TRAIN_SHAPES)]
    held += [shape_scene(seed) for seed in HELD_OUT_SEEDS]
    os.makedirs(out, exist_ok=True)
    np.savez(os.path.join(out, "train.npz"), hr=np.stack(train))
    np.savez(os.path.join(out, "held_out.npz"), hr=np.stack(held))
    print(f"{len(train)} training and {len(held)} held-out renders at {HR} px to {out}")


def fetch_fluent(cache):
    """npm pack only the Fluent package (the high-resolution side needs no other) into emoji.py's cache."""
    return emoji.fetch_package(cache, emoji.PACKAGES["fluent"])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="build/upscaler")
    p.add_argument("--cache", default="build/tinymodel/npm")
    args = p.parse_args()
    build(args.out, args.cache)


if __name__ == "__main__":
    main()
