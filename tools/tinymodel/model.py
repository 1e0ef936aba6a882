"""The embedded model: a CLIP-id text encoder with a compact vocabulary and a small cross-attention UNet,
built from plain ops so torch.onnx.export (legacy exporter) turns them into portable graphs."""
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

TEXT_WIDTH = 128
LATENT_CHANNELS = 48  # 4x4 space-to-depth of RGB (DCR order: channels 0-2 are one pixel's RGB)
SEQ = 77
BOS, EOS = 49406, 49407


def clip_vocab(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def compact_table(vocab, words, extra_ids=()):
    """CLIP id -> compact index. 0 other/unknown, 1 BOS, 2 EOS/pad, 3.. the shapes words, then every other
    CLIP id the captions use (the emoji names' BPE pieces), in a fixed order so a checkpoint keeps its rows."""
    table = torch.zeros(49408, dtype=torch.long)
    table[BOS], table[EOS] = 1, 2
    for i, word in enumerate(words):
        table[vocab[word + "</w>"]] = 3 + i
    n = 3 + len(words)
    for clip_id in sorted(set(extra_ids)):
        if table[clip_id] == 0:
            table[clip_id] = n
            n += 1
    return table


def tokenize(vocab, caption):
    ids = [BOS] + [vocab[w + "</w>"] for w in caption.split()] + [EOS]
    return ids + [EOS] * (SEQ - len(ids))


class Attention(nn.Module):
    def __init__(self, dim, context_dim, heads=4):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(context_dim, dim, bias=False)
        self.v = nn.Linear(context_dim, dim, bias=False)
        self.out = nn.Linear(dim, dim)

    def forward(self, x, context):
        b, n, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, n, h, d // h).transpose(1, 2)
        k = self.k(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        v = self.v(context).reshape(b, context.shape[1], h, d // h).transpose(1, 2)
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
        return self.out((w @ v).transpose(1, 2).reshape(b, n, d))


class TextEncoder(nn.Module):
    def __init__(self, table, layers=2):
        super().__init__()
        self.register_buffer("table", table)
        self.embed = nn.Embedding(int(table.max()) + 1, TEXT_WIDTH)
        self.position = nn.Parameter(torch.zeros(SEQ, TEXT_WIDTH))
        self.blocks = nn.ModuleList()
        for _ in range(layers):
            self.blocks.append(nn.ModuleDict({
                "norm1": nn.LayerNorm(TEXT_WIDTH), "attn": Attention(TEXT_WIDTH, TEXT_WIDTH),
                "norm2": nn.LayerNorm(TEXT_WIDTH),
                "mlp": nn.Sequential(nn.Linear(TEXT_WIDTH, 2 * TEXT_WIDTH), nn.GELU(), nn.Linear(2 * TEXT_WIDTH, TEXT_WIDTH)),
            }))
        self.norm = nn.LayerNorm(TEXT_WIDTH)

    def forward(self, input_ids):
        x = self.embed(self.table[input_ids]) + self.position
        for block in self.blocks:
            y = block["norm1"](x)
            x = x + block["attn"](y, y)
            x = x + block["mlp"](block["norm2"](x))
        return self.norm(x)


def timestep_embedding(t, dim):
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None, :]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(8, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, t):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time(t)[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


def position_features(h, w):
    """[h*w, 6] features of each latent cell's place in the image (x, y in [-1, 1] and one sine/cosine
    period of each), computed from the size at run time so any resolution exports and runs."""
    ys = (torch.arange(h, dtype=torch.float32) + 0.5) / h * 2 - 1
    xs = (torch.arange(w, dtype=torch.float32) + 0.5) / w * 2 - 1
    y = ys[:, None].expand(h, w).reshape(h * w)
    x = xs[None, :].expand(h, w).reshape(h * w)
    return torch.stack([x, y, torch.sin(math.pi * x), torch.cos(math.pi * x), torch.sin(math.pi * y), torch.cos(math.pi * y)], dim=-1)


class CrossAttnBlock(nn.Module):
    """Self-attention then cross-attention on the text. Position features are added to the tokens, so a
    cell knows where it is: "left of" and "above" are about places, and attention alone is blind to them."""

    def __init__(self, channels, zero_init=False):
        super().__init__()
        self.norm1 = nn.GroupNorm(8, channels)
        self.position = nn.Linear(6, channels)
        nn.init.zeros_(self.position.weight)
        nn.init.zeros_(self.position.bias)
        self.self_attn = Attention(channels, channels)
        self.norm2 = nn.LayerNorm(channels)
        self.cross = Attention(channels, TEXT_WIDTH)
        if zero_init:  # starts as the identity, so a block added to a trained net changes nothing at first
            for attn in (self.self_attn, self.cross):
                nn.init.zeros_(attn.out.weight)
                nn.init.zeros_(attn.out.bias)

    def forward(self, x, context):
        b, c, h, w = x.shape
        tokens = self.norm1(x).reshape(b, c, h * w).transpose(1, 2)
        tokens = tokens + self.position(position_features(h, w).to(x.device))[None]
        tokens = tokens + self.self_attn(tokens, tokens)
        tokens = tokens + self.cross(self.norm2(tokens), context)
        return x + tokens.transpose(1, 2).reshape(b, c, h, w)


def alphas_cumprod():
    """The training schedule: linear betas 1e-4 -> 0.02 over 1000 steps (scheduler_config.json says the same)."""
    return torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000), 0)


class UNet(nn.Module):
    """Predicts the clean latents x0 and returns epsilon = (x_t - sqrt(a) x0) / sqrt(1 - a), so the graph
    exposes the ordinary epsilon interface. Predicting x0 is what makes a narrow net work here: with 48
    latent channels, an epsilon net would have to carry i.i.d. noise through a 48-wide top level."""

    def __init__(self, base=64):
        super().__init__()
        self.register_buffer("alphas_cumprod", alphas_cumprod())
        temb = 4 * base
        c1, c2, c3 = base, 2 * base, 3 * base
        self.time_mlp = nn.Sequential(nn.Linear(base, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.base = base
        self.conv_in = nn.Conv2d(LATENT_CHANNELS, c1, 3, padding=1)
        self.down1 = ResBlock(c1, c1, temb)
        self.pool1 = nn.Conv2d(c1, c1, 3, stride=2, padding=1)
        self.down2 = ResBlock(c1, c2, temb)
        self.attn2 = CrossAttnBlock(c2)
        self.pool2 = nn.Conv2d(c2, c2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c2, c3, temb)
        self.mid_attn = CrossAttnBlock(c3)
        self.mid2 = ResBlock(c3, c3, temb)
        self.up2 = ResBlock(c3 + c2, c2, temb)
        self.up2_attn = CrossAttnBlock(c2)
        self.up1 = ResBlock(c2 + c1, c1, temb)
        self.up1_attn = CrossAttnBlock(c1, zero_init=True)
        self.norm_out = nn.GroupNorm(8, c1)
        self.conv_out = nn.Conv2d(c1, LATENT_CHANNELS, 3, padding=1)

    def forward(self, sample, timestep, encoder_hidden_states):
        x0 = self.predict_x0(sample, timestep, encoder_hidden_states)
        a = self.alphas_cumprod[timestep.long().clamp(0, 999)][:, None, None, None]
        return (sample - a.sqrt() * x0) / (1 - a).sqrt()

    def predict_x0(self, sample, timestep, encoder_hidden_states):
        t = self.time_mlp(timestep_embedding(timestep, self.base))
        x = self.conv_in(sample)
        s1 = self.down1(x, t)
        x = self.down2(self.pool1(s1), t)
        s2 = self.attn2(x, encoder_hidden_states)
        x = self.mid1(self.pool2(s2), t)
        x = self.mid_attn(x, encoder_hidden_states)
        x = self.mid2(x, t)
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.up2(torch.cat([x, s2], dim=1), t)
        x = self.up2_attn(x, encoder_hidden_states)
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        x = self.up1(torch.cat([x, s1], dim=1), t)
        x = self.up1_attn(x, encoder_hidden_states)
        return self.conv_out(F.silu(self.norm_out(x)))


def space_to_depth(images):
    """[B,3,64,64] in [-1,1] -> [B,48,16,16], ONNX SpaceToDepth order (blocksize 4)."""
    b, c, h, w = images.shape
    x = images.reshape(b, c, h // 4, 4, w // 4, 4).permute(0, 3, 5, 1, 2, 4)
    return x.reshape(b, 16 * c, h // 4, w // 4)


def depth_to_space(latents):
    """Inverse of space_to_depth (ONNX DepthToSpace, DCR mode)."""
    b, c, h, w = latents.shape
    x = latents.reshape(b, 4, 4, c // 16, h, w).permute(0, 3, 4, 1, 5, 2)
    return x.reshape(b, c // 16, h * 4, w * 4)
