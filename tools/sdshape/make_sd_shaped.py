#!/usr/bin/env python3
"""Builds a random-weight model with Stable Diffusion 1.5's shapes (or SDXL's with --xl) in Optimum's ONNX layout.

  /usr/bin/python3 tools/sdshape/make_sd_shaped.py OUT [--xl] [--fp16] [--no-vae-encoder]

Why: no benchmark otherwise runs a model of the size people use. The weights are random, so the pictures are noise,
but every layer has SD 1.5's shape, heads and FLOPs (UNet 859.5 M parameters: blocks 320/640/1280/1280, 2 layers per
block, 8 heads, cross-attention 768, GroupNorm 32, GEGLU feed-forward; CLIP ViT-L/14 text encoder 123 M; VAE decoder
49.5 M), or SDXL's (UNet 2.57 B: transformer depths 0/2/10, 64-wide heads, cross-attention 2048, text_embeds 1280 and
six time ids; CLIP-L and OpenCLIP bigG text encoders). Modules are written in plain PyTorch (no diffusers), with the
parameter names and input/output names Optimum's exports use, so ModelCatalog.Inspect loads the folder like any other.

Writes text_encoder/ (text_encoder_2/ for --xl), unet/model.onnx (+ model.onnx_data when over 2 GB), vae_decoder/,
vae_encoder/, tokenizer/ (tokenizer_2/), scheduler/scheduler_config.json, model_index.json and parameter_counts.json.
--fp16 exports half-precision graphs (on CUDA when present: PyTorch on the CPU may lack half convolutions).
Runs with Debian's python3-torch (1.13) and with PyTorch 2.x (the legacy TorchScript exporter in both).
"""
import argparse
import inspect
import json
import math
import os
import shutil
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER_CANDIDATES = [
    os.path.join(HERE, "../../tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer"),
    "/work/shared/clip-tokenizer",
]
LEGACY = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
OPSET = 17
TWO_GB = 2 * 1024 ** 3


# ---------------------------------------------------------------------------------------------------------- UNet parts

def timestep_embedding(timesteps, dim):
    """Sinusoidal embedding as diffusers' Timesteps(flip_sin_to_cos=True, downscale_freq_shift=0)."""
    half = dim // 2
    exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32, device=timesteps.device) / half
    args = timesteps.float()[:, None] * torch.exp(exponent)[None, :]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class ResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb=1280, eps=1e-5):
        super().__init__()
        self.norm1 = nn.GroupNorm(32, cin, eps=eps)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout) if temb else None
        self.norm2 = nn.GroupNorm(32, cout, eps=eps)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb=None):
        h = self.conv1(F.silu(self.norm1(x)))
        if self.time_emb_proj is not None:
            h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Attention(nn.Module):
    def __init__(self, dim, heads, context_dim=None):
        super().__init__()
        self.heads = heads
        context_dim = context_dim or dim
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])

    def forward(self, x, context=None):
        context = x if context is None else context
        b, n, c = x.shape
        d = c // self.heads
        q = self.to_q(x).reshape(b, -1, self.heads, d).transpose(1, 2)
        k = self.to_k(context).reshape(b, -1, self.heads, d).transpose(1, 2)
        v = self.to_v(context).reshape(b, -1, self.heads, d).transpose(1, 2)
        weights = torch.softmax(q @ k.transpose(-1, -2) * (d ** -0.5), dim=-1)
        out = (weights @ v).transpose(1, 2).reshape(b, -1, c)
        return self.to_out[0](out)


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        h, gate = self.proj(x).chunk(2, dim=-1)
        return h * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.net = nn.ModuleList([GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim)])

    def forward(self, x):
        for layer in self.net:
            x = layer(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, heads, context_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, heads, context_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = x + self.attn1(self.norm1(x))
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff(self.norm3(x))


class Transformer2D(nn.Module):
    """SD 1.5 projects in and out with 1x1 convolutions; SD 2 and SDXL with linear layers."""

    def __init__(self, dim, heads, context_dim, depth, linear):
        super().__init__()
        self.linear = linear
        self.norm = nn.GroupNorm(32, dim, eps=1e-6)
        self.proj_in = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(dim, heads, context_dim) for _ in range(depth)])
        self.proj_out = nn.Linear(dim, dim) if linear else nn.Conv2d(dim, dim, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        residual = x
        x = self.norm(x)
        if self.linear:
            x = self.proj_in(x.permute(0, 2, 3, 1).reshape(b, h * w, c))
        else:
            x = self.proj_in(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        for block in self.transformer_blocks:
            x = block(x, context)
        if self.linear:
            x = self.proj_out(x).reshape(b, h, w, c).permute(0, 3, 1, 2)
        else:
            x = self.proj_out(x.reshape(b, h, w, c).permute(0, 3, 1, 2))
        return x + residual


class Downsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.resnets = nn.ModuleList()
        self.attentions = nn.ModuleList()


class UNet(nn.Module):
    """diffusers' UNet2DConditionModel, reduced to what SD 1.5 and SDXL configure."""

    def __init__(self, channels, depths, mid_depth, heads, context_dim, linear, layers=2, addition=None):
        super().__init__()
        temb = channels[0] * 4
        self.channels = channels[0]
        self.addition = addition
        self.conv_in = nn.Conv2d(4, channels[0], 3, padding=1)
        self.time_embedding = nn.ModuleDict({"linear_1": nn.Linear(channels[0], temb), "linear_2": nn.Linear(temb, temb)})
        if addition:
            # SDXL: six size/crop ids, each embedded in `addition` sinusoids, beside the pooled text (1280).
            self.add_embedding = nn.ModuleDict({"linear_1": nn.Linear(6 * addition + 1280, temb), "linear_2": nn.Linear(temb, temb)})
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i, c in enumerate(channels):
            cin, cout = cout, c
            block = Block()
            for j in range(layers):
                block.resnets.append(ResnetBlock(cin if j == 0 else cout, cout, temb))
                if depths[i]:
                    block.attentions.append(Transformer2D(cout, heads(cout), context_dim, depths[i], linear))
            block.downsamplers = nn.ModuleList([Downsample(cout)]) if i < len(channels) - 1 else None
            self.down_blocks.append(block)
        top = channels[-1]
        self.mid_block = Block()
        self.mid_block.resnets.extend([ResnetBlock(top, top, temb), ResnetBlock(top, top, temb)])
        self.mid_block.attentions.append(Transformer2D(top, heads(top), context_dim, mid_depth, linear))
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(channels))
        reversed_depths = list(reversed(depths))
        cout = reversed_channels[0]
        for i, c in enumerate(reversed_channels):
            previous, cout = cout, c
            skip_in = reversed_channels[min(i + 1, len(channels) - 1)]
            block = Block()
            for j in range(layers + 1):
                skip = skip_in if j == layers else cout
                block.resnets.append(ResnetBlock((previous if j == 0 else cout) + skip, cout, temb))
                if reversed_depths[i]:
                    block.attentions.append(Transformer2D(cout, heads(cout), context_dim, reversed_depths[i], linear))
            block.upsamplers = nn.ModuleList([Upsample(cout)]) if i < len(channels) - 1 else None
            self.up_blocks.append(block)
        self.conv_norm_out = nn.GroupNorm(32, channels[0])
        self.conv_out = nn.Conv2d(channels[0], 4, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds=None, time_ids=None):
        timesteps = timestep.reshape(-1).expand(sample.shape[0]) if timestep.dim() == 0 else timestep
        t = timestep_embedding(timesteps, self.channels).to(sample.dtype)
        emb = self.time_embedding["linear_2"](F.silu(self.time_embedding["linear_1"](t)))
        if self.addition:
            ids = timestep_embedding(time_ids.reshape(-1), self.addition).reshape(sample.shape[0], -1).to(sample.dtype)
            added = torch.cat([text_embeds, ids], dim=-1)
            emb = emb + self.add_embedding["linear_2"](F.silu(self.add_embedding["linear_1"](added)))
        h = self.conv_in(sample)
        skips = [h]
        for block in self.down_blocks:
            for j, resnet in enumerate(block.resnets):
                h = resnet(h, emb)
                if len(block.attentions):
                    h = block.attentions[j](h, encoder_hidden_states)
                skips.append(h)
            if block.downsamplers is not None:
                h = block.downsamplers[0](h)
                skips.append(h)
        h = self.mid_block.resnets[0](h, emb)
        h = self.mid_block.attentions[0](h, encoder_hidden_states)
        h = self.mid_block.resnets[1](h, emb)
        for block in self.up_blocks:
            for j, resnet in enumerate(block.resnets):
                h = resnet(torch.cat([h, skips.pop()], dim=1), emb)
                if len(block.attentions):
                    h = block.attentions[j](h, encoder_hidden_states)
            if block.upsamplers is not None:
                h = block.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# ------------------------------------------------------------------------------------------------------- text encoders

class ClipLayer(nn.Module):
    def __init__(self, dim, heads, quick_gelu):
        super().__init__()
        self.heads = heads
        self.quick_gelu = quick_gelu
        self.layer_norm1 = nn.LayerNorm(dim)
        self.self_attn = nn.ModuleDict({n: nn.Linear(dim, dim) for n in ["q_proj", "k_proj", "v_proj", "out_proj"]})
        self.layer_norm2 = nn.LayerNorm(dim)
        self.mlp = nn.ModuleDict({"fc1": nn.Linear(dim, dim * 4), "fc2": nn.Linear(dim * 4, dim)})

    def forward(self, x, mask):
        b, n, c = x.shape
        d = c // self.heads
        h = self.layer_norm1(x)
        q, k, v = (self.self_attn[p](h).reshape(b, n, self.heads, d).transpose(1, 2) for p in ["q_proj", "k_proj", "v_proj"])
        weights = torch.softmax(q @ k.transpose(-1, -2) * (d ** -0.5) + mask, dim=-1)
        x = x + self.self_attn["out_proj"]((weights @ v).transpose(1, 2).reshape(b, n, c))
        h = self.mlp["fc1"](self.layer_norm2(x))
        h = h * torch.sigmoid(1.702 * h) if self.quick_gelu else F.gelu(h)
        return x + self.mlp["fc2"](h)


class ClipText(nn.Module):
    """CLIPTextModel (projection=False: last_hidden_state, pooler_output) or CLIPTextModelWithProjection (text_embeds),
    with Optimum's SDXL hidden_states.N outputs when `hidden_states` is set."""

    def __init__(self, dim, layers, heads, quick_gelu, projection=False, hidden_states=False, vocab=49408, positions=77):
        super().__init__()
        self.hidden_states = hidden_states
        self.projection = projection
        self.token_embedding = nn.Embedding(vocab, dim)
        self.position_embedding = nn.Embedding(positions, dim)
        self.layers = nn.ModuleList([ClipLayer(dim, heads, quick_gelu) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(dim)
        self.text_projection = nn.Linear(dim, dim, bias=False) if projection else None
        with torch.no_grad():
            # CLIP's own initialisation scale: default N(0, 1) embeddings would swamp the layer norms' inputs.
            self.token_embedding.weight.normal_(0, 0.02)
            self.position_embedding.weight.normal_(0, 0.01)

    def forward(self, input_ids):
        n = input_ids.shape[1]
        x = self.token_embedding(input_ids.long()) + self.position_embedding.weight[:n][None]
        mask = torch.full((n, n), float("-inf"), device=x.device, dtype=x.dtype).triu(1)
        states = [x]
        for layer in self.layers:
            x = layer(x, mask)
            states.append(x)
        last = self.final_layer_norm(x)
        pooled = last[torch.arange(last.shape[0], device=last.device), input_ids.long().argmax(dim=-1)]
        outputs = [self.text_projection(pooled), last] if self.projection else [last, pooled]
        if self.hidden_states:
            outputs += states
        return tuple(outputs)


# ---------------------------------------------------------------------------------------------------------------- VAE

class VaeAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.group_norm = nn.GroupNorm(32, c, eps=1e-6)
        self.to_q, self.to_k, self.to_v = nn.Linear(c, c), nn.Linear(c, c), nn.Linear(c, c)
        self.to_out = nn.ModuleList([nn.Linear(c, c)])

    def forward(self, x):
        b, c, h, w = x.shape
        t = self.group_norm(x).reshape(b, c, h * w).transpose(1, 2)
        weights = torch.softmax(self.to_q(t) @ self.to_k(t).transpose(1, 2) * (c ** -0.5), dim=-1)
        out = self.to_out[0](weights @ self.to_v(t)).transpose(1, 2).reshape(b, c, h, w)
        return x + out


class VaeMid(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock(c, c, 0, 1e-6), ResnetBlock(c, c, 0, 1e-6)])
        self.attentions = nn.ModuleList([VaeAttention(c)])

    def forward(self, x):
        return self.resnets[1](self.attentions[0](self.resnets[0](x)))


class VaeDecoder(nn.Module):
    def __init__(self, channels=(128, 256, 512, 512)):
        super().__init__()
        top = channels[-1]
        self.post_quant_conv = nn.Conv2d(4, 4, 1)
        self.conv_in = nn.Conv2d(4, top, 3, padding=1)
        self.mid_block = VaeMid(top)
        self.up_blocks = nn.ModuleList()
        reversed_channels = list(reversed(channels))
        cout = reversed_channels[0]
        for i, c in enumerate(reversed_channels):
            cin, cout = cout, c
            block = Block()
            block.resnets.extend([ResnetBlock(cin if j == 0 else cout, cout, 0, 1e-6) for j in range(3)])
            block.upsamplers = nn.ModuleList([Upsample(cout)]) if i < len(channels) - 1 else None
            self.up_blocks.append(block)
        self.conv_norm_out = nn.GroupNorm(32, channels[0], eps=1e-6)
        self.conv_out = nn.Conv2d(channels[0], 3, 3, padding=1)

    def forward(self, latent_sample):
        h = self.mid_block(self.conv_in(self.post_quant_conv(latent_sample)))
        for block in self.up_blocks:
            for resnet in block.resnets:
                h = resnet(h)
            if block.upsamplers is not None:
                h = block.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class VaeDownsample(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class VaeEncoder(nn.Module):
    def __init__(self, channels=(128, 256, 512, 512)):
        super().__init__()
        self.conv_in = nn.Conv2d(3, channels[0], 3, padding=1)
        self.down_blocks = nn.ModuleList()
        cout = channels[0]
        for i, c in enumerate(channels):
            cin, cout = cout, c
            block = Block()
            block.resnets.extend([ResnetBlock(cin if j == 0 else cout, cout, 0, 1e-6) for j in range(2)])
            block.downsamplers = nn.ModuleList([VaeDownsample(cout)]) if i < len(channels) - 1 else None
            self.down_blocks.append(block)
        self.mid_block = VaeMid(channels[-1])
        self.conv_norm_out = nn.GroupNorm(32, channels[-1], eps=1e-6)
        self.conv_out = nn.Conv2d(channels[-1], 8, 3, padding=1)
        self.quant_conv = nn.Conv2d(8, 8, 1)

    def forward(self, sample):
        h = self.conv_in(sample)
        for block in self.down_blocks:
            for resnet in block.resnets:
                h = resnet(h)
            if block.downsamplers is not None:
                h = block.downsamplers[0](h)
        h = self.quant_conv(self.conv_out(F.silu(self.conv_norm_out(self.mid_block(h)))))
        return h[:, :4]  # the distribution's mean: what a deterministic image-to-image start reads


# ------------------------------------------------------------------------------------------------------------- export

def count(module):
    return sum(p.numel() for p in module.parameters())


def export(module, inputs, path, input_names, output_names, dynamic_axes):
    """Exports with the legacy exporter into a scratch folder, then writes one model.onnx (with all weights in one
    model.onnx_data beside it when the graph passes protobuf's 2 GB limit)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    started = time.time()
    with tempfile.TemporaryDirectory(dir=os.path.dirname(path)) as scratch:
        temporary = os.path.join(scratch, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(module, inputs, temporary, opset_version=OPSET, do_constant_folding=True, **LEGACY,
                              input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes)
        weights = sum(os.path.getsize(os.path.join(scratch, f)) for f in os.listdir(scratch))
        if weights < TWO_GB - 64 * 1024 ** 2 and len(os.listdir(scratch)) == 1:
            shutil.move(temporary, path)
        else:
            import onnx  # only to gather the weights into one file: an fp16 SD 1.5 export does not need it

            graph = onnx.load(temporary, load_external_data=True)
            for stale in [path, path + "_data"]:
                if os.path.exists(stale):
                    os.remove(stale)
            onnx.save_model(graph, path, save_as_external_data=True, all_tensors_to_one_file=True,
                            location="model.onnx_data", size_threshold=1024)
            del graph
    print(f"  {os.path.relpath(path)}: {time.time() - started:.0f} s", flush=True)


def tokenizer_folder():
    for candidate in TOKENIZER_CANDIDATES:
        if os.path.exists(os.path.join(candidate, "vocab.json")):
            return candidate
    raise SystemExit("no CLIP tokenizer files found (looked in " + ", ".join(TOKENIZER_CANDIDATES) + ")")


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", help="folder to write (not committed)")
    p.add_argument("--xl", action="store_true", help="SDXL's shapes instead of SD 1.5's")
    p.add_argument("--fp16", action="store_true", help="half-precision graphs (inputs and weights), as Optimum's fp16 exports")
    p.add_argument("--no-vae-encoder", action="store_true", help="skip vae_encoder/ (text-to-image needs only the decoder)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto (cuda for --fp16 when present)")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    device = args.device
    if device == "auto":
        device = "cuda" if args.fp16 and torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if args.fp16 else torch.float32
    out = args.out
    os.makedirs(out, exist_ok=True)

    if args.xl:
        unet = UNet([320, 640, 1280], [0, 2, 10], 10, heads=lambda c: c // 64, context_dim=2048, linear=True, addition=256)
        encoders = [("text_encoder", ClipText(768, 12, 12, quick_gelu=True, hidden_states=True)),
                    ("text_encoder_2", ClipText(1280, 32, 20, quick_gelu=False, projection=True, hidden_states=True))]
    else:
        unet = UNet([320, 640, 1280, 1280], [1, 1, 1, 0], 1, heads=lambda c: 8, context_dim=768, linear=False)
        encoders = [("text_encoder", ClipText(768, 12, 12, quick_gelu=True))]
    decoder = VaeDecoder()
    encoder = None if args.no_vae_encoder else VaeEncoder()

    counts = {"unet": count(unet), "vae_decoder": count(decoder)}
    for name, module in encoders:
        counts[name] = count(module)
    if encoder is not None:
        counts["vae_encoder"] = count(encoder)
    print(f"{'SDXL' if args.xl else 'SD 1.5'}-shaped, random weights, {'fp16' if args.fp16 else 'fp32'}, exporting on {device}:")
    for name, n in counts.items():
        print(f"  {name:16s} {n:>14,d} parameters ({n / 1e6:.2f} M)")

    tokens = torch.full((1, 77), 49407, dtype=torch.int32, device=device)
    tokens[0, 0] = 49406
    for name, module in encoders:
        module = module.to(device, dtype).eval()
        outputs = (["text_embeds", "last_hidden_state"] if module.projection else ["last_hidden_state", "pooler_output"])
        if module.hidden_states:
            outputs += [f"hidden_states.{i}" for i in range(len(module.layers) + 1)]
        export(module, (tokens,), os.path.join(out, name, "model.onnx"), ["input_ids"], outputs,
               {"input_ids": {0: "batch_size"}, **{o: {0: "batch_size"} for o in outputs}})
        encoders[[n for n, _ in encoders].index(name)] = (name, None)  # release the weights before the UNet

    unet = unet.to(device, dtype).eval()
    sample = torch.randn(2, 4, 8, 8, device=device, dtype=dtype)
    timestep = torch.tensor([999, 999], dtype=torch.int64, device=device)
    hidden = torch.randn(2, 77, 2048 if args.xl else 768, device=device, dtype=dtype)
    names = ["sample", "timestep", "encoder_hidden_states"]
    inputs = (sample, timestep, hidden)
    axes = {"sample": {0: "batch_size", 2: "height", 3: "width"}, "timestep": {0: "steps"},
            "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
            "out_sample": {0: "batch_size", 2: "height", 3: "width"}}
    if args.xl:
        inputs += (torch.randn(2, 1280, device=device, dtype=dtype),
                   torch.tensor([[1024, 1024, 0, 0, 1024, 1024]] * 2, device=device, dtype=dtype))
        names += ["text_embeds", "time_ids"]
        axes.update({"text_embeds": {0: "batch_size"}, "time_ids": {0: "batch_size"}})
    export(unet, inputs, os.path.join(out, "unet", "model.onnx"), names, ["out_sample"], axes)
    del unet

    decoder = decoder.to(device, dtype).eval()
    export(decoder, (torch.randn(1, 4, 8, 8, device=device, dtype=dtype),), os.path.join(out, "vae_decoder", "model.onnx"),
           ["latent_sample"], ["sample"], {"latent_sample": {0: "batch_size", 2: "height", 3: "width"},
                                           "sample": {0: "batch_size", 2: "height", 3: "width"}})
    if encoder is not None:
        encoder = encoder.to(device, dtype).eval()
        export(encoder, (torch.randn(1, 3, 64, 64, device=device, dtype=dtype),), os.path.join(out, "vae_encoder", "model.onnx"),
               ["sample"], ["latent_sample"], {"sample": {0: "batch_size", 2: "height", 3: "width"},
                                               "latent_sample": {0: "batch_size", 2: "height", 3: "width"}})

    vae = {"_class_name": "AutoencoderKL", "block_out_channels": [128, 256, 512, 512], "latent_channels": 4,
           "sample_size": 1024 if args.xl else 512, "scaling_factor": 0.13025 if args.xl else 0.18215}
    if args.xl or args.fp16:
        # Random weights give no promise that fp16 activations stay finite through the decoder: the engine runs
        # it in fp32 (once per image, a small share of the time) rather than refusing a NaN picture.
        vae["force_upcast"] = True
    write_json(os.path.join(out, "vae_decoder", "config.json"), vae)
    if encoder is not None:
        write_json(os.path.join(out, "vae_encoder", "config.json"), vae)
    tokenizer = tokenizer_folder()
    for folder in (["tokenizer", "tokenizer_2"] if args.xl else ["tokenizer"]):
        os.makedirs(os.path.join(out, folder), exist_ok=True)
        for name in ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"]:
            if os.path.exists(os.path.join(tokenizer, name)):
                shutil.copyfile(os.path.join(tokenizer, name), os.path.join(out, folder, name))
    if args.xl:
        # OpenCLIP bigG pads with "!" rather than the end token, as SDXL's tokenizer_2 says.
        write_json(os.path.join(out, "tokenizer_2", "tokenizer_config.json"),
                   {"bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "pad_token": "!", "model_max_length": 77, "do_lower_case": True})
    scheduler = {"_class_name": "EulerDiscreteScheduler" if args.xl else "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
                 "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "steps_offset": 1, "timestep_spacing": "leading",
                 "prediction_type": "epsilon", "set_alpha_to_one": False, "skip_prk_steps": True}
    write_json(os.path.join(out, "scheduler", "scheduler_config.json"), scheduler)
    index = {"_class_name": "ORTStableDiffusionXLPipeline" if args.xl else "OnnxStableDiffusionPipeline",
             "_t2istudio": {"name": f"{'SDXL' if args.xl else 'SD 1.5'}-shaped random weights{' fp16' if args.fp16 else ''}"}}
    if args.xl:
        index["force_zeros_for_empty_prompt"] = True
    write_json(os.path.join(out, "model_index.json"), index)
    write_json(os.path.join(out, "parameter_counts.json"),
               {"shape": "sdxl" if args.xl else "sd15", "dtype": "float16" if args.fp16 else "float32", "parameters": counts,
                "bytes_on_disk": {d: sum(os.path.getsize(os.path.join(out, d, f)) for f in os.listdir(os.path.join(out, d)))
                                  for d in sorted(os.listdir(out)) if os.path.isdir(os.path.join(out, d))}})
    print(f"wrote {out} (parameter counts in parameter_counts.json)")


if __name__ == "__main__":
    main()
