#!/usr/bin/env python3
"""Trains the embedded model on procedural shapes (shapes.py) and named emoji (emoji.py), on the CPU or a
GPU, within a time budget.

  /usr/bin/python3 tools/tinymodel/train.py --minutes 35 --emoji build/tinymodel/emoji --out build/tinymodel/checkpoint.pt

Needs a real BLAS under Debian's torch (apt-get install libopenblas0-pthread: 10x faster matmuls than the
reference BLAS it links by default). Deterministic data for a seed; EMA weights are what the exporter uses. Checkpoints every few minutes, so a
time-limited run always leaves a usable model.
"""
import argparse
import copy
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn.functional as F

import model as m
import shapes
from clip_bpe import ClipBpe

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=30)
    p.add_argument("--batch", type=int, default=40)
    p.add_argument("--width", type=int, default=48, help="UNet base channels (a multiple of 8)")
    p.add_argument("--lr", type=float, default=8e-4)
    p.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                   help="cosine anneals the rate to 5 %% of --lr by the deadline (a closing run)")
    p.add_argument("--snapshot-minutes", type=float, default=0,
                   help="also keep OUT.stepN.pt every so many minutes, to choose between on a validation set")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--vocab", default=os.path.join(HERE, "../../tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer/vocab.json"))
    p.add_argument("--out", default="build/tinymodel/checkpoint.pt")
    p.add_argument("--emoji", help="folder written by emoji.py; without it, shapes only")
    p.add_argument("--emoji-fraction", type=float, default=0.3, help="share of each batch drawn from the emoji")
    p.add_argument("--resume", help="continue from this checkpoint (its EMA weights seed both the live and EMA models)")
    args = p.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    vocab = m.clip_vocab(args.vocab)
    bpe = ClipBpe(os.path.dirname(args.vocab))
    emoji_images, emoji_captions = None, []
    if args.emoji:
        emoji_images = np.load(os.path.join(args.emoji, "emoji.npz"))["images"]
        with open(os.path.join(args.emoji, "emoji.json"), encoding="utf-8") as f:
            items = json.load(f)["items"]
        # Each emoji answers to its name and to each CLDR keyword.
        emoji_captions = [[bpe.ids77(item["label"])] + [bpe.ids77(tag) for tag in item["tags"]] for item in items]
        print(f"emoji: {len(items)} images, {args.emoji_fraction:.0%} of each batch", flush=True)
    extra = {i for captions in emoji_captions for ids in captions for i in ids}
    table = m.compact_table(vocab, shapes.WORDS, extra)
    text, unet = m.TextEncoder(table).to(device), m.UNet(base=args.width).to(device)
    params = list(text.parameters()) + list(unet.parameters())
    print(f"parameters: text {sum(p.numel() for p in text.parameters()):,}, unet {sum(p.numel() for p in unet.parameters()):,}", flush=True)
    first_step = 0
    if args.resume:
        state = torch.load(args.resume, map_location=device)
        # A table grown by the emoji keeps the old rows first; new rows start from the model's own init.
        old = state["text"]["embed.weight"]
        state["text"]["embed.weight"] = torch.cat([old, text.embed.weight.detach()[old.shape[0]:].to(old.device)], 0)
        state["text"]["table"] = table.to(device)
        text.load_state_dict(state["text"])
        # Blocks a newer model.py added start at zero (identity), so an older checkpoint resumes into them.
        missing, unexpected = unet.load_state_dict(state["unet"], strict=False)
        if unexpected:
            raise SystemExit(f"checkpoint has weights this model does not: {unexpected}")
        if missing:
            print(f"new (zero-initialised) weights: {len(missing)} tensors", flush=True)
        first_step = state["step"]
        print(f"resumed from step {first_step}", flush=True)
    ema_text, ema_unet = copy.deepcopy(text).eval(), copy.deepcopy(unet).eval()
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)

    alphas_cumprod = m.alphas_cumprod().to(device)
    empty = torch.tensor(m.tokenize(vocab, ""), device=device)
    rng = random.Random(args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    start, step, last_save, losses = time.time(), first_step, time.time(), []
    last_snapshot = start
    deadline = start + args.minutes * 60
    while time.time() < deadline:
        images, ids = [], []
        for _ in range(args.batch):
            if emoji_images is not None and rng.random() < args.emoji_fraction:
                k = rng.randrange(len(emoji_captions))
                image = emoji_images[k]
                caption_ids = emoji_captions[k][0] if rng.random() < 0.7 else rng.choice(emoji_captions[k])
            else:
                image, caption = shapes.sample(rng)
                caption_ids = m.tokenize(vocab, caption)
            images.append(image)
            ids.append(caption_ids if rng.random() >= 0.1 else empty.tolist())  # CFG dropout
        x0 = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1).to(device)
        x0 = m.space_to_depth(x0)
        ids = torch.tensor(ids, device=device)
        t = torch.randint(0, 1000, (args.batch,), device=device)
        noise = torch.randn_like(x0)
        a = alphas_cumprod[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        warm = min(1.0, (step - first_step + 1) / 200)
        if args.lr_schedule == "cosine":
            done = min(1.0, (time.time() - start) / (deadline - start))
            warm *= 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * done))
        for group in optimizer.param_groups:
            group["lr"] = args.lr * warm
        # The net predicts x0 (see model.UNet); its loss is on x0, min-SNR weighted so low-noise steps still count.
        snr = a / (1 - a)
        weight = torch.clamp(snr, max=5.0) / 5.0 + 0.2
        loss = (weight * (unet.predict_x0(xt, t, text(ids)) - x0) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for ema, live in ((ema_text, text), (ema_unet, unet)):
                for pe, pl in zip(ema.parameters(), live.parameters()):
                    pe.mul_(decay).add_(pl.detach(), alpha=1 - decay)
        losses.append(loss.item())
        step += 1
        if step % 100 == 0:
            print(f"step {step:6d}  loss {np.mean(losses[-100:]):.4f}  {time.time() - start:7.0f} s", flush=True)
        if time.time() - last_save > 180:
            save(args.out, ema_text, ema_unet, table, step, args.width)
            last_save = time.time()
        if args.snapshot_minutes and time.time() - last_snapshot > args.snapshot_minutes * 60:
            save(f"{os.path.splitext(args.out)[0]}.step{step}.pt", ema_text, ema_unet, table, step, args.width)
            last_snapshot = time.time()
    save(args.out, ema_text, ema_unet, table, step, args.width)
    print(f"done: {step} steps ({step - first_step} this run) in {time.time() - start:.0f} s on {device}", flush=True)


def save(path, text, unet, table, step, width):
    torch.save({"text": text.state_dict(), "unet": unet.state_dict(), "table": table, "step": step, "width": width}, path + ".tmp")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
