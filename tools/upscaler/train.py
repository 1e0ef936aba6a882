"""Trains the embedded x4 upscaler on data.py's renders: random 128-px crops of the 256-px renders against
their 32-px area-downsampled inputs, L1 loss, flips and quarter turns, a learning rate that anneals over a
wall-clock budget (the CPU is shared; the budget, not an epoch count, bounds the run).

  /usr/bin/python3 tools/upscaler/train.py --data build/upscaler --out build/upscaler/upscaler.pt --minutes 20
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import SCALE, downsample  # noqa: E402
from model import TinyUpscaler  # noqa: E402

CROP = 128


def to_tensor(images):
    return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255.0


def batch(hr, lr, rng, size):
    picks, lows = [], []
    for _ in range(size):
        for _attempt in range(4):  # prefer crops with something in them over blank white
            i = rng.integers(len(hr))
            y, x = rng.integers(0, (hr.shape[1] - CROP) // SCALE + 1, size=2) * SCALE
            crop = hr[i, y:y + CROP, x:x + CROP]
            if crop.std() > 8:
                break
        picks.append(crop)
        lows.append(lr[i, y // SCALE:(y + CROP) // SCALE, x // SCALE:(x + CROP) // SCALE])
    high, low = to_tensor(np.stack(picks)), to_tensor(np.stack(lows))
    turns = int(rng.integers(4))
    if rng.random() < 0.5:
        high, low = high.flip(3), low.flip(3)
    return torch.rot90(low, turns, (2, 3)), torch.rot90(high, turns, (2, 3))


def psnr(a, b):
    mse = F.mse_loss(a, b).item()
    return 10 * math.log10(1.0 / max(mse, 1e-12))


def evaluate(model, hr):
    """Mean PSNR (dB) of the model and of bicubic over whole held-out renders, both rounded to bytes."""
    lr = to_tensor(downsample(hr))
    target = to_tensor(hr)
    ours, cubic = [], []
    with torch.no_grad():
        for i in range(len(hr)):
            x = lr[i:i + 1]
            up = (model(x) * 255).round() / 255
            bi = (F.interpolate(x, scale_factor=SCALE, mode="bicubic", align_corners=False).clamp(0, 1) * 255).round() / 255
            ours.append(psnr(up, target[i:i + 1]))
            cubic.append(psnr(bi, target[i:i + 1]))
    return float(np.mean(ours)), float(np.mean(cubic))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="build/upscaler")
    p.add_argument("--out", default="build/upscaler/upscaler.pt")
    p.add_argument("--minutes", type=float, default=20)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    hr = np.load(os.path.join(args.data, "train.npz"))["hr"]
    lr = downsample(hr)
    held = np.load(os.path.join(args.data, "held_out.npz"))["hr"]
    model = TinyUpscaler()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    budget = args.minutes * 60
    start = time.time()
    step, last_save, running = 0, start, None
    while (elapsed := time.time() - start) < budget:
        for group in opt.param_groups:  # cosine over the wall-clock budget, after a short warm-up
            group["lr"] = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * elapsed / budget))
        low, high = batch(hr, lr, rng, args.batch)
        loss = F.l1_loss(model(low), high)
        opt.zero_grad()
        loss.backward()
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        step += 1
        if step % 200 == 0:
            print(f"step {step} {elapsed / 60:.1f} min  L1 {running:.4f}", flush=True)
        if time.time() - last_save > 120:
            torch.save(model.state_dict(), args.out)
            last_save = time.time()
    torch.save(model.state_dict(), args.out)
    model.eval()
    ours, cubic = evaluate(model, held)
    print(f"done: {step} steps ({step * args.batch} crops) in {(time.time() - start) / 60:.1f} min; "
          f"held-out PSNR {ours:.2f} dB vs bicubic {cubic:.2f} dB", flush=True)


if __name__ == "__main__":
    main()
