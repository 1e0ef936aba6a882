#!/usr/bin/env python3
"""Samples a checkpoint in PyTorch (DDIM, eta 0, trailing spacing): a quick look during training.
  /usr/bin/python3 tools/tinymodel/sample.py --checkpoint build/tinymodel/checkpoint.pt --out /tmp/sample.png"""
import argparse
import os

import numpy as np
import torch
from PIL import Image

import model as m

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPTS = ["a large green triangle left of a small red circle", "a small blue square", "a large red circle above a small yellow square",
           "a large purple triangle", "a small orange circle right of a large blue triangle", "a large yellow square below a small green circle"]


@torch.no_grad()
def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", default="build/tinymodel/checkpoint.pt")
    p.add_argument("--out", default="/tmp/sample.png")
    p.add_argument("--steps", type=int, default=25)
    p.add_argument("--guidance", type=float, default=4.0)
    args = p.parse_args()
    torch.set_num_threads(1)
    state = torch.load(args.checkpoint, map_location="cpu")
    vocab = m.clip_vocab(os.path.join(HERE, "../../tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer/vocab.json"))
    text, unet = m.TextEncoder(state["table"]), m.UNet(base=state.get("width", 48))
    text.load_state_dict(state["text"]), unet.load_state_dict(state["unet"])
    text.eval(), unet.eval()
    acp = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0)
    ts = [int(round(1000 - i * 1000 / args.steps)) - 1 for i in range(args.steps)]
    tiles = []
    for i, prompt in enumerate(PROMPTS):
        g = torch.Generator().manual_seed(i)
        x = torch.randn(1, 48, 16, 16, generator=g)
        cond = text(torch.tensor([m.tokenize(vocab, prompt)]))
        uncond = text(torch.tensor([m.tokenize(vocab, "")]))
        for j, t in enumerate(ts):
            eps_u, eps_c = unet(torch.cat([x, x]), torch.tensor([t, t]), torch.cat([uncond, cond])).chunk(2)
            eps = eps_u + args.guidance * (eps_c - eps_u)
            a = acp[t]
            a_prev = acp[ts[j + 1]] if j + 1 < len(ts) else torch.tensor(1.0)
            x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
            x = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps
        img = ((m.depth_to_space(x).clamp(-1, 1) + 1) * 127.5).round().byte()[0].permute(1, 2, 0).numpy()
        tiles.append(img)
    Image.fromarray(np.concatenate(tiles, axis=1)).resize((len(tiles) * 128, 128), Image.NEAREST).save(args.out)
    print(f"step {state['step']}: wrote {args.out}")


if __name__ == "__main__":
    main()
