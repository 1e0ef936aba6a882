#!/usr/bin/env python3
"""Exports a trained checkpoint to a Stable-Diffusion-layout model folder that the C# engine runs.

  /usr/bin/python3 tools/tinymodel/export.py --checkpoint build/tinymodel/checkpoint.pt --out models/t2istudio-tiny

Writes model_index.json, tokenizer/ (the CLIP files), text_encoder/, unet/, vae_decoder/ and vae_encoder/
(4x4 depth-to-space and its inverse: a lossless "VAE"), scheduler/scheduler_config.json, and
--reference (PyTorch outputs for fixed inputs) so `dotnet test` checks ONNX Runtime against PyTorch.
"""
import argparse
import inspect
import json
import os
import shutil

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

import model as m
import shapes

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "../../tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer")
# The legacy (TorchScript) exporter everywhere: PyTorch 2.9+ defaults to the dynamo one.
LEGACY = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", default="build/tinymodel/checkpoint.pt")
    p.add_argument("--out", default="models/t2istudio-tiny")
    p.add_argument("--emoji", default="build/tinymodel/emoji", help="emoji.py's folder: its sheet prompts go into evaluation.json")
    p.add_argument("--reference", default="tests/T2IStudio.Generation.Tests/TestData/tinymodel-reference.json")
    args = p.parse_args()

    state = torch.load(args.checkpoint, map_location="cpu")
    text = m.TextEncoder(state["table"])
    text.load_state_dict(state["text"])
    unet = m.UNet(base=state.get("width", 48))
    unet.load_state_dict(state["unet"])
    text.eval(), unet.eval()

    out = args.out
    for sub in ["tokenizer", "text_encoder", "unet", "vae_decoder", "vae_encoder", "scheduler"]:
        os.makedirs(os.path.join(out, sub), exist_ok=True)
    for name in ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]:
        shutil.copyfile(os.path.join(TOKENIZER, name), os.path.join(out, "tokenizer", name))

    ids = torch.tensor([m.tokenize(m.clip_vocab(os.path.join(TOKENIZER, "vocab.json")), "a small red circle above a large blue square")])
    torch.onnx.export(text, (ids,), os.path.join(out, "text_encoder", "model.onnx"), opset_version=14, **LEGACY,
                      input_names=["input_ids"], output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    hidden = text(ids)
    sample = torch.randn(1, m.LATENT_CHANNELS, 16, 16, generator=torch.Generator().manual_seed(0))
    timestep = torch.tensor([500], dtype=torch.long)
    torch.onnx.export(unet, (sample, timestep, hidden), os.path.join(out, "unet", "model.onnx"), opset_version=14, **LEGACY,
                      input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"],
                      dynamic_axes={"sample": {0: "batch", 2: "height", 3: "width"}, "timestep": {0: "batch"},
                                    "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch", 2: "height", 3: "width"}})
    vae_graphs(out)
    configs(out, state)
    evaluation_set(out, named_prompts(args.emoji))

    with torch.no_grad():
        reference = {
            "step": state["step"],
            "input_ids": ids[0].tolist(),
            "hidden_first_token": hidden[0, 1].tolist(),
            "hidden_mean": float(hidden.mean()),
            "sample_seed": 0,
            "sample": sample.flatten().tolist(),
            "timestep": 500,
            "out_sample": unet(sample, timestep, hidden).flatten().tolist(),
        }
    os.makedirs(os.path.dirname(args.reference), exist_ok=True)
    with open(args.reference, "w") as f:
        json.dump(reference, f)
    size = sum(os.path.getsize(os.path.join(d, name)) for d, _, names in os.walk(out) for name in names)
    print(f"exported step {state['step']} to {out} ({size / 1e6:.1f} MB)")


def vae_graphs(out):
    lo = helper.make_tensor("lo", TensorProto.FLOAT, [], [-1.0])
    hi = helper.make_tensor("hi", TensorProto.FLOAT, [], [1.0])
    decoder = helper.make_graph(
        [helper.make_node("DepthToSpace", ["latent_sample"], ["pixels"], blocksize=4, mode="DCR"),
         helper.make_node("Clip", ["pixels", "lo", "hi"], ["sample"])],
        "vae_decoder",
        [helper.make_tensor_value_info("latent_sample", TensorProto.FLOAT, ["batch", m.LATENT_CHANNELS, "height", "width"])],
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "image_height", "image_width"])],
        [lo, hi])
    encoder = helper.make_graph(
        [helper.make_node("SpaceToDepth", ["sample"], ["latent_sample"], blocksize=4)],
        "vae_encoder",
        [helper.make_tensor_value_info("sample", TensorProto.FLOAT, ["batch", 3, "height", "width"])],
        [helper.make_tensor_value_info("latent_sample", TensorProto.FLOAT, ["batch", m.LATENT_CHANNELS, "latent_height", "latent_width"])])
    for graph, name in ((decoder, "vae_decoder"), (encoder, "vae_encoder")):
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="t2istudio-tinymodel")
        model.ir_version = 8
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, name, "model.onnx"))


def configs(out, state):
    write(os.path.join(out, "model_index.json"), {
        "_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0",
        "_t2istudio": {"name": "T2I Studio tiny", "trained_steps": state["step"]},
        "t2istudio_defaults": {"width": 64, "height": 64, "steps": 25, "guidance": 4.0, "scheduler": "ddim"}})
    write(os.path.join(out, "scheduler", "scheduler_config.json"), {
        "_class_name": "DDIMScheduler", "num_train_timesteps": 1000, "beta_schedule": "linear",
        "beta_start": 0.0001, "beta_end": 0.02, "prediction_type": "epsilon", "timestep_spacing": "trailing",
        "steps_offset": 0, "set_alpha_to_one": True, "clip_sample": False})
    vae = {"_class_name": "SpaceToDepthVAE", "latent_channels": m.LATENT_CHANNELS, "scaling_factor": 1.0,
           "block_out_channels": [3, 12, 48], "sample_size": 64}
    write(os.path.join(out, "vae_decoder", "config.json"), vae)
    write(os.path.join(out, "vae_encoder", "config.json"), vae)


def named_prompts(folder):
    """The emoji names for the model card's contact sheet (judged by eye, not scored)."""
    path = os.path.join(folder, "emoji.json")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [{"prompt": name, "seed": i + 1} for i, name in enumerate(json.load(f)["sheet"])]


def evaluation_set(out, named, per_triple=8, seed=99):
    """Held-out prompts with fixed seeds: what `t2i eval` generates and scores. Training never saw these triples."""
    import random
    rng = random.Random(seed)
    prompts = []
    for colour, shape, relation in shapes.held_out_triples():
        for _ in range(per_triple):
            while True:
                other = (rng.choice(list(shapes.COLOURS)), rng.choice(shapes.SHAPES))
                if other != (colour, shape):
                    break
            first = f"a {rng.choice(list(shapes.SIZES))} {colour} {shape}"
            second = f"a {rng.choice(list(shapes.SIZES))} {other[0]} {other[1]}"
            prompts.append({"prompt": f"{first} {relation} {second}", "seed": len(prompts) + 1})
    write(os.path.join(out, "evaluation.json"), {
        "description": "Held-out colour x shape x relation triples (never in training), fixed seeds.",
        "held_out": [list(t) for t in shapes.held_out_triples()],
        "width": 64, "height": 64, "steps": 25, "scheduler": "Ddim", "guidance": 4.0,
        "prompts": prompts,
        "named": named})


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
