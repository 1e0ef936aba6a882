#!/usr/bin/env python3
"""Trains one textual-inversion embedding for the embedded model: a colour it was never taught.

  /usr/bin/python3 tools/tinymodel/textual_inversion.py --steps 108 --lr 1e-2 --out models/embeddings/t2i-pink.safetensors

--steps N stops after N steps, so a run is reproducible step for step (the batches, noise and timesteps come from
--seed, on one CPU thread); --minutes M instead stops when the time is up, after however many steps fitted.

The model (models/t2istudio-tiny) knows six colours (shapes.py). This learns ONE new vector, the trigger
word's, by gradient descent on the model's own diffusion loss, with every weight of the text encoder and the
UNet frozen: the data are the same procedural shapes, drawn in pink, captioned "a small TRIGGER circle" etc.
No checkpoint is needed: the PyTorch modules of model.py are rebuilt and their weights read back from the
committed ONNX files (checked against the exporter's reference outputs before training starts).

Writes the A1111 safetensors layout (`emb_params`: [1, 128] float32) by hand: an 8-byte little-endian header
length, the JSON header, the raw data.
"""
import argparse
import json
import os
import random
import struct
import time

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import model as m
import shapes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "../..")
MODEL = os.path.join(ROOT, "models/t2istudio-tiny")
REFERENCE = os.path.join(ROOT, "tests/T2IStudio.Generation.Tests/TestData/tinymodel-reference.json")
PINK = (235, 100, 170)


def load_from_onnx(module, path):
    """Fills `module` from the ONNX file the exporter wrote for it. Named initializers keep their state_dict
    names; the rest (bias-less Linear weights exported transposed for MatMul, GroupNorm's affine reshaped to
    [C, 1, 1]) are anonymous and come in state_dict order, so they are taken in turn and checked by size."""
    inits = onnx.load(path).graph.initializer
    named = {i.name: numpy_helper.to_array(i) for i in inits}
    anonymous = [numpy_helper.to_array(i) for i in inits if i.name.startswith("onnx::")]
    state = {}
    for key, value in module.state_dict().items():
        if key in named:
            array = named[key]
        else:
            array = anonymous.pop(0)
            if array.ndim == 2 and value.ndim == 2:
                array = array.T  # MatMul takes the weight as [in, out]
        if array.size != value.numel():
            raise SystemExit(f"{path}: {key} wants {tuple(value.shape)}, the next initializer has {array.shape}")
        state[key] = torch.from_numpy(np.ascontiguousarray(array)).reshape(value.shape).to(value.dtype)
    if anonymous:
        raise SystemExit(f"{path}: {len(anonymous)} initializers left over")
    module.load_state_dict(state)


def frozen_model():
    table = torch.from_numpy(numpy_helper.to_array(
        next(i for i in onnx.load(os.path.join(MODEL, "text_encoder/model.onnx")).graph.initializer if i.name == "table")).copy())
    text = m.TextEncoder(table)
    load_from_onnx(text, os.path.join(MODEL, "text_encoder/model.onnx"))
    unet = m.UNet(base=48)
    load_from_onnx(unet, os.path.join(MODEL, "unet/model.onnx"))
    text.eval(), unet.eval()
    for p in list(text.parameters()) + list(unet.parameters()):
        p.requires_grad_(False)
    with open(REFERENCE) as f:
        ref = json.load(f)
    with torch.no_grad():
        ids = torch.tensor([ref["input_ids"]])
        hidden = text(ids)
        sample = torch.tensor(ref["sample"]).reshape(1, m.LATENT_CHANNELS, 16, 16)
        out = unet(sample, torch.tensor([ref["timestep"]]), hidden)
    error = max(float((hidden[0, 1] - torch.tensor(ref["hidden_first_token"])).abs().max()),
                float((out.flatten() - torch.tensor(ref["out_sample"])).abs().max()))
    if error > 1e-3:
        raise SystemExit(f"the rebuilt model does not reproduce the exporter's reference (max error {error:.2e})")
    print(f"rebuilt the model from ONNX; reference reproduced within {error:.1e}", flush=True)
    return text, unet


def encode(text, ids, vector, slot):
    """The text encoder's forward with the trigger's CLIP id `slot` looking up `vector` instead of a table row."""
    rows = text.table[ids.clamp(max=49407)]
    x = text.embed(rows)
    x = torch.where((ids == slot)[..., None], vector.expand_as(x), x) + text.position
    for block in text.blocks:
        y = block["norm1"](x)
        x = x + block["attn"](y, y)
        x = x + block["mlp"](block["norm2"](x))
    return text.norm(x)


def scene(rng, vocab, slot):
    """A pink shape alone or beside one of the known colours; its caption's ids with the trigger at `slot`."""
    colours = dict(shapes.COLOURS)
    shapes.COLOURS["pink"] = PINK
    try:
        canvas = np.full((shapes.SIZE, shapes.SIZE, 3), 255, dtype=np.uint8)
        size, shape = rng.choice(list(shapes.SIZES)), rng.choice(shapes.SHAPES)
        if rng.random() < 0.5:
            s = shapes.SIZES[size]
            margin = s / 2 + 2
            shapes.draw(canvas, shape, "pink", s, rng.uniform(margin, shapes.SIZE - margin), rng.uniform(margin, shapes.SIZE - margin))
            words = ["a", size, None, shape]
        else:
            while True:
                image, caption = shapes.sample(rng, allow_single=False)
                first = caption.split()[2]
                if first in colours and caption.split()[-2] != first:
                    break
            # Redraw: the first object of the caption becomes pink (same place, found by its colour).
            mask = np.all(image == np.array(colours[first], dtype=np.uint8), axis=-1)
            canvas = image
            canvas[mask] = PINK
            words = caption.split()
            words[2] = None
        ids = [m.BOS] + [slot if w is None else vocab[w + "</w>"] for w in words] + [m.EOS]
        return canvas, ids + [m.EOS] * (m.SEQ - len(ids))
    finally:
        shapes.COLOURS.clear()
        shapes.COLOURS.update(colours)


def read_safetensors(path, name):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    entry = json.loads(data[8:8 + length])[name]
    begin, end = entry["data_offsets"]
    return torch.from_numpy(np.frombuffer(data[8 + length + begin:8 + length + end], dtype="<f4").copy()).reshape(entry["shape"])


def write_safetensors(path, name, array):
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    header = json.dumps({"__metadata__": {"format": "pt", "trigger": os.path.splitext(os.path.basename(path))[0]},
                         name: {"dtype": "F32", "shape": list(array.shape), "data_offsets": [0, len(data)]}},
                        separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the format pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--minutes", type=float, default=15, help="stop after this long (ignored with --steps)")
    p.add_argument("--steps", type=int, help="stop after exactly this many steps: reproducible, unlike --minutes")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-3)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--init", default="red+purple", help="the known words whose mean vector the new one starts from")
    p.add_argument("--resume", help="continue from this embedding file (its emb_params) instead of --init")
    p.add_argument("--out", default=os.path.join(ROOT, "models/embeddings/t2i-pink.safetensors"))
    args = p.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    vocab = m.clip_vocab(os.path.join(MODEL, "tokenizer/vocab.json"))
    text, unet = frozen_model()
    slot = 49408  # a CLIP id past the vocabulary: only the trigger uses it
    if args.resume:
        start_row = read_safetensors(args.resume, "emb_params")[0]
    else:  # the mean of the known words' vectors ("red+purple": pink lies between them)
        start_row = torch.stack([text.embed.weight[text.table[vocab[w + "</w>"]]] for w in args.init.split("+")]).mean(0).detach().clone()
    vector = torch.nn.Parameter(start_row.clone())
    optimizer = torch.optim.Adam([vector], lr=args.lr)
    alphas = m.alphas_cumprod()
    deadline, step, losses = time.time() + args.minutes * 60, 0, []
    while (step < args.steps) if args.steps else (time.time() < deadline):
        images, ids = zip(*(scene(rng, vocab, slot) for _ in range(args.batch)))
        x0 = m.space_to_depth(torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div(127.5).sub(1))
        t = torch.randint(0, 1000, (args.batch,))
        a = alphas[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * torch.randn_like(x0)
        weight = torch.clamp(a / (1 - a), max=5.0) / 5.0 + 0.2  # the model's own training loss (train.py)
        hidden = encode(text, torch.tensor(ids), vector, slot)
        loss = (weight * (unet.predict_x0(xt, t, hidden) - x0) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        step += 1
        if step % 25 == 0:
            print(f"step {step:5d}  loss {np.mean(losses[-25:]):.4f}  |v| {float(vector.norm()):.2f} "
                  f"(start {float(start_row.norm()):.2f})", flush=True)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    write_safetensors(args.out, "emb_params", vector.detach().numpy()[None, :])
    print(f"{step} steps; wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
