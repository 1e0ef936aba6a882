"""Procedural shapes data for the embedded model: captions like "a small red circle above a large blue square".

Deterministic for a seed. Images are 64x64 RGB on white. Ten percent of the colour x shape x relation
triples (the first object's colour and shape with the relation) are held out of training for evaluation.
The C# analyser in T2IStudio.Generation/Evaluation renders the same geometry (ShapeScene).
"""
import random

import numpy as np

SIZE = 64
COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 200, 30),
    "purple": (150, 60, 190),
    "orange": (245, 130, 30),
}
SHAPES = ["circle", "square", "triangle"]
SIZES = {"small": 14, "large": 26}
RELATIONS = ["left of", "right of", "above", "below"]
WORDS = ["a"] + list(SIZES) + list(COLOURS) + SHAPES + ["left", "of", "right", "above", "below"]


def held_out_triples(seed=1234):
    triples = [(c, s, r) for c in COLOURS for s in SHAPES for r in RELATIONS]
    rng = random.Random(seed)
    rng.shuffle(triples)
    return sorted(triples[: len(triples) // 10])


HELD_OUT = set(held_out_triples())


def draw(canvas, shape, colour, size, cx, cy):
    """Rasterises one shape centred at (cx, cy) with side/diameter `size` (pixel centres inside)."""
    h = size / 2.0
    ys, xs = np.mgrid[0:SIZE, 0:SIZE]
    px, py = xs + 0.5, ys + 0.5
    if shape == "circle":
        inside = (px - cx) ** 2 + (py - cy) ** 2 <= h * h
    elif shape == "square":
        inside = (np.abs(px - cx) <= h) & (np.abs(py - cy) <= h)
    else:  # upward triangle with base 'size' and height 'size'
        top, bottom = cy - h, cy + h
        t = (py - top) / size
        inside = (py >= top) & (py <= bottom) & (np.abs(px - cx) <= t * h)
    canvas[inside] = COLOURS[colour]


def caption_object(size, colour, shape):
    return f"a {size} {colour} {shape}"


def sample(rng, held_out_only=False, allow_single=True):
    """One (image uint8 [64,64,3], caption) pair."""
    canvas = np.full((SIZE, SIZE, 3), 255, dtype=np.uint8)
    if allow_single and not held_out_only and rng.random() < 0.3:
        size, colour, shape = rng.choice(list(SIZES)), rng.choice(list(COLOURS)), rng.choice(SHAPES)
        s = SIZES[size]
        margin = s / 2 + 2
        cx, cy = rng.uniform(margin, SIZE - margin), rng.uniform(margin, SIZE - margin)
        draw(canvas, shape, colour, s, cx, cy)
        return canvas, caption_object(size, colour, shape)
    while True:
        a = (rng.choice(list(SIZES)), rng.choice(list(COLOURS)), rng.choice(SHAPES))
        b = (rng.choice(list(SIZES)), rng.choice(list(COLOURS)), rng.choice(SHAPES))
        relation = rng.choice(RELATIONS)
        if (a[1], a[2]) == (b[1], b[2]):
            continue
        if ((a[1], a[2], relation) in HELD_OUT) != held_out_only:
            continue
        break
    sa, sb = SIZES[a[0]], SIZES[b[0]]
    # Place A and B apart along the relation's axis, jittered on the other axis.
    along = (sa + sb) / 2 + rng.uniform(4, 10)
    ca = rng.uniform(sa / 2 + 2, SIZE - along - sb / 2 - 2)
    cross_a = rng.uniform(max(sa, sb) / 2 + 2, SIZE - max(sa, sb) / 2 - 2)
    cross_b = min(max(cross_a + rng.uniform(-4, 4), sb / 2 + 2), SIZE - sb / 2 - 2)
    first, second = ca, ca + along
    if relation in ("right of", "below"):
        first, second = second, first
    if relation in ("left of", "right of"):
        pa, pb = (first, cross_a), (second, cross_b)
    else:
        pa, pb = (cross_a, first), (cross_b, second)
    draw(canvas, a[2], a[1], sa, *pa)
    draw(canvas, b[2], b[1], sb, *pb)
    return canvas, f"{caption_object(*a)} {relation} {caption_object(*b)}"
