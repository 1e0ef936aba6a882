"""Exports the trained upscaler to models/upscalers/t2istudio-tiny-x4/: model.onnx ([1, 3, H, W] in [0, 1] in,
[1, 3, 4H, 4W] out, free height and width), config.json, the held-out pairs the card's figures are measured on
(held-out/NAME-low.png beside NAME-high.png: renders never trained on and their 4x area downsample) and
before-after.png (bicubic | upscaler | ground truth on held-out renders). The card's figures come from the C#
command that measures the exported graph as the app runs it:

  /usr/bin/python3 tools/upscaler/export.py --weights build/upscaler/upscaler.pt
  dotnet run --project src/T2IStudio.Cli -- eval-upscaler --upscaler models/upscalers/t2istudio-tiny-x4
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import HELD_OUT_SEEDS, SCALE, downsample  # noqa: E402
from model import TinyUpscaler  # noqa: E402

NAME = "T2I Studio tiny ×4"
PAIRS_EMOJI = 12  # of the held-out emoji, evenly spaced
PAIRS_SHAPES = 4
SHEET = 4  # held-out pairs shown in before-after.png


def export_onnx(model, path):
    example = torch.rand(1, 3, 64, 64)
    torch.onnx.export(model, example, path, input_names=["image"], output_names=["upscaled"], opset_version=17,
                      dynamic_axes={"image": {2: "height", 3: "width"}, "upscaled": {2: "out_height", 3: "out_width"}})


def held_out_pairs(held, emoji_count):
    """Names and 256-px renders of the pairs the card measures: evenly spaced held-out emoji, then shape scenes."""
    shapes_count = len(held) - emoji_count
    emoji_picks = np.linspace(0, emoji_count - 1, PAIRS_EMOJI).round().astype(int)
    shape_picks = range(emoji_count, emoji_count + min(PAIRS_SHAPES, shapes_count))
    return ([(f"emoji-{i:02d}", held[k]) for i, k in enumerate(emoji_picks)]
            + [(f"shapes-{i:02d}", held[k]) for i, k in enumerate(shape_picks)])


def before_after(model, pairs, path):
    tile, gap, label = 256, 8, 18
    columns = ["bicubic", "upscaler", "ground truth"]
    sheet = Image.new("RGB", (3 * tile + 4 * gap, label + SHEET * (tile + gap) + gap), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for c, name in enumerate(columns):
        draw.text((gap + c * (tile + gap) + 4, 4), name, fill=(0, 0, 0))
    for r, (_, hr) in enumerate(pairs[:SHEET]):
        low = torch.from_numpy(downsample(hr)).permute(2, 0, 1).float().unsqueeze(0) / 255
        with torch.no_grad():
            ours = model(low)
        cubic = F.interpolate(low, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0, 1)
        for c, image in enumerate([cubic, ours, torch.from_numpy(hr).permute(2, 0, 1).float().unsqueeze(0) / 255]):
            array = (image[0].permute(1, 2, 0).numpy() * 255).round().clip(0, 255).astype(np.uint8)
            sheet.paste(Image.fromarray(array), (gap + c * (tile + gap), label + r * (tile + gap) + gap))
    sheet.save(path, optimize=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", default="build/upscaler/upscaler.pt")
    p.add_argument("--data", default="build/upscaler")
    p.add_argument("--out", default="models/upscalers/t2istudio-tiny-x4")
    args = p.parse_args()
    model = TinyUpscaler()
    model.load_state_dict(torch.load(args.weights))
    model.eval()
    os.makedirs(os.path.join(args.out, "held-out"), exist_ok=True)
    export_onnx(model, os.path.join(args.out, "model.onnx"))
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        json.dump({"name": NAME, "scale": SCALE}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    held = np.load(os.path.join(args.data, "held_out.npz"))["hr"]
    emoji_count = len(held) - len(HELD_OUT_SEEDS)
    pairs = held_out_pairs(held, emoji_count)
    for name, hr in pairs:
        Image.fromarray(hr).save(os.path.join(args.out, "held-out", f"{name}-high.png"), optimize=True)
        Image.fromarray(downsample(hr)).save(os.path.join(args.out, "held-out", f"{name}-low.png"), optimize=True)
    before_after(model, pairs, os.path.join(args.out, "before-after.png"))
    size = os.path.getsize(os.path.join(args.out, "model.onnx"))
    print(f"exported {sum(p.numel() for p in model.parameters())} parameters ({size / 1e6:.2f} MB) and "
          f"{len(pairs)} held-out pairs to {args.out}")


if __name__ == "__main__":
    main()
