"""Emoji with their names for the embedded model: Noto (npm emoji-datasource-google@16.0.0, art Apache-2.0)
and Fluent flat (npm fluentui-emoji@1.3.0, MIT, SVGs rendered with librsvg's rsvg-convert), named and
tagged by CLDR (npm emojibase-data@17.0.0, MIT). Nothing share-alike (no OpenMoji). Flags, skin-tone
swatches and skin-tone variants are left out: a 64-pixel model spends its capacity better on the rest.

  /usr/bin/python3 tools/tinymodel/emoji.py --out build/tinymodel/emoji     (fetches with npm pack, renders)

Writes emoji.npz (images uint8 [N,64,64,3] on white) and emoji.json (label, tags, source per image).
"""
import argparse
import io
import json
import os
import subprocess
import tarfile

import numpy as np
from PIL import Image

from clip_bpe import normalise

PACKAGES = {
    "noto": "emoji-datasource-google@16.0.0",
    "fluent": "fluentui-emoji@1.3.0",
    "cldr": "emojibase-data@17.0.0",
}
LICENCES = {
    "noto": "Noto Emoji art, Apache-2.0 (npm emoji-datasource-google@16.0.0; the package's code is MIT)",
    "fluent": "Fluent Emoji flat SVGs, MIT (npm fluentui-emoji@1.3.0)",
}
SKIN_TONES = ("-light", "-medium-light", "-medium", "-medium-dark", "-dark")
SIZE = 64
# Named prompts for the model card's contact sheet (those present in the data, in this order).
SHEET = ["grinning face", "red apple", "pile of poo", "fire", "red heart", "thumbs up", "rocket", "pizza",
         "cat face", "dog face", "sun", "snowman", "ghost", "alien", "robot", "banana",
         "watermelon", "four leaf clover", "rainbow", "star", "crescent moon", "umbrella", "soccer ball",
         "basketball", "guitar", "light bulb", "house", "automobile", "airplane", "rose", "christmas tree",
         "face with tears of joy", "smiling face with sunglasses", "tomato", "carrot", "frog"]


def fetch_package(cache, spec):
    """npm pack one package (name@version) into cache/ (once) and return its package root."""
    os.makedirs(cache, exist_ok=True)
    name, version = spec.rsplit("@", 1)
    root = os.path.join(cache, f"{name}-{version}")
    if not os.path.isdir(os.path.join(root, "package")):
        tgz = os.path.join(cache, f"{name}-{version}.tgz")
        if not os.path.exists(tgz):
            subprocess.run(["npm", "pack", spec, "--pack-destination", cache], check=True, stdout=subprocess.DEVNULL)
        with tarfile.open(tgz) as tar:
            tar.extractall(root)
    return os.path.join(root, "package")


def fetch(cache):
    """npm pack each package into cache/ (once) and return name -> package root."""
    return {key: fetch_package(cache, spec) for key, spec in PACKAGES.items()}


def cldr(root):
    """Normalised label -> (label, tags) and hexcode without FE0F -> same, skipping flags and components."""
    with open(os.path.join(root, "en", "data.json"), encoding="utf-8") as f:
        data = json.load(f)
    by_label, by_code = {}, {}
    for e in data:
        if e.get("group") in (2, 9):  # component (skin swatches), flags
            continue
        entry = (normalise(e["label"]), sorted({normalise(t) for t in e.get("tags", []) if normalise(t)}))
        by_label[entry[0]] = entry
        by_code[e["hexcode"].replace("-FE0F", "")] = entry
    return by_label, by_code


def on_white(rgba, box):
    canvas = Image.new("RGB", (SIZE, SIZE), (255, 255, 255))
    glyph = rgba.convert("RGBA").resize((box, box), Image.LANCZOS)
    canvas.paste(glyph, ((SIZE - box) // 2, (SIZE - box) // 2), glyph)
    return np.asarray(canvas, dtype=np.uint8)


def noto(root, by_code):
    with open(os.path.join(root, "emoji.json"), encoding="utf-8") as f:
        entries = json.load(f)
    for e in sorted(entries, key=lambda e: e["sort_order"]):
        found = by_code.get(e["unified"].replace("-FE0F", ""))
        path = os.path.join(root, "img", "google", "64", e["image"])
        if not e.get("has_img_google") or found is None or not os.path.exists(path):
            continue
        yield found, on_white(Image.open(path), 60), "noto"


def fluent(root, by_label):
    folder = os.path.join(root, "icons", "flat")
    names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".svg"))
    present = set(names)
    for name in names:
        if any(name.endswith(t) and name[: -len(t)] + "-default" in present for t in SKIN_TONES):
            continue
        label = normalise(name.removesuffix("-default").replace("-", " "))
        found = by_label.get(label, (label, []))
        png = subprocess.run(["rsvg-convert", "-w", "120", "-h", "120", os.path.join(folder, name + ".svg")],
                             check=True, capture_output=True).stdout
        yield found, on_white(Image.open(io.BytesIO(png)), 56), "fluent"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", default="build/tinymodel/emoji")
    p.add_argument("--cache", default="build/tinymodel/npm")
    args = p.parse_args()
    build(args.out, args.cache)


def build(out, cache):
    roots = fetch(cache)
    by_label, by_code = cldr(roots["cldr"])
    images, items = [], []
    for source in (noto(roots["noto"], by_code), fluent(roots["fluent"], by_label)):
        for (label, tags), image, origin in source:
            images.append(image)
            items.append({"label": label, "tags": tags, "source": origin})
    os.makedirs(out, exist_ok=True)
    np.savez_compressed(os.path.join(out, "emoji.npz"), images=np.stack(images))
    sheet = [label for label in SHEET if any(i["label"] == label for i in items)][:32]
    with open(os.path.join(out, "emoji.json"), "w", encoding="utf-8") as f:
        json.dump({"packages": PACKAGES, "licences": LICENCES, "sheet": sheet, "items": items}, f, indent=0)
    counts = {s: sum(i["source"] == s for i in items) for s in LICENCES}
    print(f"{len(items)} emoji ({counts}) to {out}; {len(sheet)} sheet prompts")


if __name__ == "__main__":
    main()
