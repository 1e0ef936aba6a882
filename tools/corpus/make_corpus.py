#!/usr/bin/env python3
"""Writes T2I Studio's crafted-input corpus: the files every untrusted-image test sends through ImageIntake.

PNGs are written byte by byte here (zlib and struct only), so every bomb, broken checksum and lying header is
exactly what this file says. JPEG, WebP and GIF come from Pillow (Debian: apt-get install python3-pil).
The output is committed (tests/T2IStudio.Generation.Tests/TestData/corpus/), so CI needs no Python:

    /usr/bin/python3 tools/corpus/make_corpus.py [OUTPUT_DIR]

manifest.json lists, for each file, what the intake must do with it: accept it (with its upright size and a few
pixels), refuse it (with a fragment of the message), or either (a damaged file a decoder may still read whole).
"""
import io
import json
import os
import random
import struct
import sys
import zlib

from PIL import Image, ImageOps

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "..", "tests", "T2IStudio.Generation.Tests", "TestData", "corpus")
MANIFEST = []
RNG = random.Random(20261201)
MIB = 1024 * 1024


def chunk(kind, data):
    body = kind.encode("ascii") + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def ihdr(width, height, depth=8, colour=2, interlace=0):
    return chunk("IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


def png(width, height, rows, depth=8, colour=2, extra_before=(), extra_after=(), interlace=0, idat=None):
    """rows: one bytes object per row (already packed, without the filter byte)."""
    raw = idat if idat is not None else zlib.compress(b"".join(b"\0" + r for r in rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + ihdr(width, height, depth, colour, interlace) + b"".join(extra_before)
            + chunk("IDAT", raw) + b"".join(extra_after) + chunk("IEND", b""))


def rgb_rows(width, height, colour_at):
    return [bytes(v for x in range(width) for v in colour_at(x, y)) for y in range(height)]


def gradient(x, y):
    return (x * 4 % 256, y * 5 % 256, 128)


def write(name, data, expect, **details):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    entry = {"file": name, "expect": expect}
    entry.update(details)
    MANIFEST.append(entry)


def accept(name, data, width, height, pixels=(), tolerance=0, **details):
    write(name, data, "accept", width=width, height=height,
          pixels=[list(p) for p in pixels], tolerance=tolerance, **details)


def refuse(name, data, message, **details):
    write(name, data, "refuse", message=message, **details)


def pil_bytes(image, fmt, **options):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def quadrants(width, height):
    """Four flat colours, so orientation and lossy formats can be checked by corner pixels."""
    image = Image.new("RGB", (width, height))
    colours = [(230, 20, 20), (20, 230, 20), (20, 20, 230), (240, 240, 20)]
    for y in range(height):
        for x in range(width):
            image.putpixel((x, y), colours[(1 if x >= width // 2 else 0) + (2 if y >= height // 2 else 0)])
    return image


def corners(image, inset=3):
    w, h = image.size
    return [(x, y) + image.getpixel((x, y))[:3] for x, y in ((inset, inset), (w - 1 - inset, inset), (inset, h - 1 - inset), (w - 1 - inset, h - 1 - inset))]


def adam7(width, height, row_bytes_of):
    """Interlaced RGB8 rows for IDAT: each pass's sub-image, each row with filter byte 0."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    out = b""
    for x0, y0, dx, dy in passes:
        for y in range(y0, height, dy):
            xs = range(x0, width, dx)
            if len(xs) == 0:
                continue
            out += b"\0" + b"".join(row_bytes_of(x, y) for x in xs)
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    for old in os.listdir(OUT):
        os.remove(os.path.join(OUT, old))

    # ---- valid PNGs of every colour type T2I Studio reads ----
    valid = png(64, 48, rgb_rows(64, 48, gradient))
    accept("png-rgb8.png", valid, 64, 48, pixels=[(0, 0, 0, 0, 128), (10, 7, 40, 35, 128), (63, 47, 252, 235, 128)])
    params = b"parameters\0a red fox in snow\nSteps: 20, Sampler: Euler a, Seed: 42"
    accept("png-text-parameters.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=[chunk("tEXt", params)]),
           16, 16, parameters="a red fox in snow\nSteps: 20, Sampler: Euler a, Seed: 42")
    z = b"parameters\0\0" + zlib.compress("a blue bird, zTXt\nSteps: 8".encode("latin-1"))
    accept("png-ztxt-parameters.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=[chunk("zTXt", z)]), 16, 16,
           parameters="a blue bird, zTXt\nSteps: 8")
    it = b"parameters\0\x01\0en\0\0" + zlib.compress("猫 🐱 iTXt\nSteps: 4".encode("utf-8"))
    accept("png-itxt-parameters.png", png(16, 16, rgb_rows(16, 16, gradient), extra_after=[chunk("iTXt", it)]), 16, 16,
           parameters="猫 🐱 iTXt\nSteps: 4")
    rows16 = [b"".join(struct.pack(">HHH", 0x1234, 0xABCD, 0xFF00) for _ in range(8)) for _ in range(8)]
    accept("png-rgb16.png", png(8, 8, rows16, depth=16), 8, 8, pixels=[(3, 3, 0x12, 0xAB, 0xFE)], tolerance=1)
    rgba16 = [b"".join(struct.pack(">HHHH", 0x8000, 0x4000, 0x2000, 0xFFFF) for _ in range(8)) for _ in range(8)]
    accept("png-rgba16.png", png(8, 8, rgba16, depth=16, colour=6), 8, 8, pixels=[(0, 0, 0x80, 0x40, 0x20)], tolerance=1)
    palette = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)]
    pal_rows = [bytes(((x // 4) + (y // 4) * 2) % 4 for x in range(8)) for y in range(8)]
    accept("png-palette.png", png(8, 8, pal_rows, colour=3, extra_before=[chunk("PLTE", b"".join(bytes(c) for c in palette)),
                                                                          chunk("tRNS", b"\xff\xff\xff\x80")]),
           8, 8, pixels=[(0, 0, 255, 0, 0), (5, 0, 0, 255, 0), (0, 5, 0, 0, 255), (5, 5, 255, 255, 255)])
    pal4 = [bytes([0b00011011, 0b00011011]) for _ in range(4)]  # 2-bit palette: indices 0,1,2,3 repeating
    accept("png-palette-2bit.png", png(8, 4, pal4, depth=2, colour=3, extra_before=[chunk("PLTE", b"".join(bytes(c) for c in palette))]),
           8, 4, pixels=[(0, 0, 255, 0, 0), (1, 0, 0, 255, 0), (2, 1, 0, 0, 255), (3, 3, 255, 255, 255)])
    ga = [bytes(v for x in range(8) for v in (x * 30, 200)) for _ in range(8)]
    accept("png-grey-alpha.png", png(8, 8, ga, colour=4), 8, 8, pixels=[(2, 2, 60, 60, 60), (7, 0, 210, 210, 210)])
    grey1 = [bytes([0b10101010]) for _ in range(8)]
    accept("png-grey-1bit.png", png(8, 8, grey1, depth=1, colour=0), 8, 8, pixels=[(0, 0, 255, 255, 255), (1, 0, 0, 0, 0)])
    inter = adam7(19, 13, lambda x, y: bytes(gradient(x, y)))
    accept("png-interlaced.png", png(19, 13, None, interlace=1, idat=zlib.compress(inter, 9)), 19, 13,
           pixels=[(0, 0, 0, 0, 128), (5, 3, 20, 15, 128), (18, 12, 72, 60, 128)])
    # Found by the fuzz test (seed 7, mutant 1497): one byte of the deflate stream set to 255 ends the image data
    # early, and ImageSharp 2.1.13's interlaced decoder then spins forever. The intake inflates the data first.
    hang = bytearray(png(19, 13, None, interlace=1, idat=zlib.compress(inter, 9)))
    hang[246] = 255
    hang[495 - 4:495] = struct.pack(">I", zlib.crc32(bytes(hang[37:495 - 4])) & 0xFFFFFFFF)
    refuse("fuzz-png-interlaced-hang.png", bytes(hang), "This PNG is damaged")
    refuse("png-interlaced-short-data.png", png(19, 13, None, interlace=1, idat=zlib.compress(inter[:312], 9)),
           "its image data ends after 312 of 767 bytes")
    exif = b"MM\0*\0\0\0\x08\0\x01" + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + b"\0\0\0\0"
    accept("png-exif-orientation-6.png", png(40, 20, rgb_rows(40, 20, lambda x, y: (230, 20, 20) if x < 20 else (20, 20, 230)),
                                             extra_before=[chunk("eXIf", exif)]),
           20, 40, pixels=[(10, 5, 230, 20, 20), (10, 35, 20, 20, 230)])

    # ---- PNG decompression bombs: text, colour profile and image data ----
    bomb256 = zlib.compress(b"\0" * (256 * MIB), 9)
    refuse("bomb-ztxt-256mib.png", png(32, 32, rgb_rows(32, 32, gradient), extra_before=[chunk("zTXt", b"Comment\0\0" + bomb256)]),
           "zTXt text chunk that inflates past 256 KB", e2e=True)
    bomb64 = zlib.compress(b"A" * (64 * MIB), 9)
    refuse("bomb-itxt-64mib.png", png(32, 32, rgb_rows(32, 32, gradient), extra_after=[chunk("iTXt", b"parameters\0\x01\0\0\0" + bomb64)]),
           "iTXt text chunk that inflates past 256 KB")
    many = [chunk("zTXt", f"note{k}".encode() + b"\0\0" + zlib.compress(b"B" * (250 * 1024), 9)) for k in range(5)]
    refuse("bomb-ztxt-many-chunks.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=many), "more than 1 MB of compressed text")
    # Uncompressed text (a tool's workflow JSON, say) costs only its bytes in the file: read, not refused.
    workflow = b"workflow\0" + b"{" + b'"n":1,' * (260 * 1024 // 6) + b"}"
    accept("png-text-large-uncompressed.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=[chunk("tEXt", workflow)]), 16, 16)
    # The colour profile is never used, so it is dropped without being inflated: the picture is read.
    accept("bomb-iccp-256mib.png", png(32, 32, rgb_rows(32, 32, gradient), extra_before=[chunk("iCCP", b"icc\0\0" + bomb256)]),
           32, 32, pixels=[(5, 5, 20, 25, 128)])
    # IDAT that inflates to 256 MiB for a 64×64 picture: only the rows the picture needs are inflated.
    accept("bomb-idat-excess.png", png(64, 64, None, idat=bomb256), 64, 64, pixels=[(7, 7, 0, 0, 0)])
    # 16 MP of zeros in 48 KB: allowed by the limits, and reduced to 2048 a side for an upload.
    accept("bomb-idat-16mp.png", png(4096, 4096, None, depth=8, colour=0,
                                     idat=zlib.compress(b"".join(b"\0" + b"\x20" * 4096 for _ in range(4096)), 9)),
           4096, 4096, pixels=[(100, 100, 32, 32, 32)], uploadWidth=2048, uploadHeight=2048, budgetMB=200)
    refuse("header-65535x65535.png", png(65535, 65535, None, idat=zlib.compress(b"\0" * 1024)), "65535×65535", e2e=True)
    refuse("header-9000x1.png", png(9000, 1, None, idat=zlib.compress(b"\0" * 27001)), "9000×1")
    refuse("header-zero-width.png", png(0, 16, None, idat=zlib.compress(b"\0")), "size of 0×16")

    # ---- damaged, animated and strange PNGs ----
    refuse("png-truncated.png", valid[: len(valid) // 2], "cut short")
    broken = bytearray(valid)
    broken[50] ^= 0xFF  # inside IDAT's data: the CRC no longer matches
    refuse("png-crc-broken.png", bytes(broken), "fails its checksum")
    refuse("png-no-iend.png", valid[:-12], "cut short")
    actl = chunk("acTL", struct.pack(">II", 2, 0))
    refuse("png-apng.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=[actl]), "animated (APNG)")
    refuse("png-unknown-critical.png", png(16, 16, rgb_rows(16, 16, gradient), extra_before=[chunk("CgBI", b"\0\0\0\0")]), "CgBI")
    refuse("png-bad-colour-type.png", png(16, 16, rgb_rows(16, 16, gradient), depth=16, colour=3), "colour type 3 at 16 bits")
    bad_idat = png(16, 16, None, idat=b"\x78\x9c" + bytes(RNG.randrange(256) for _ in range(200)))
    write("png-garbage-idat.png", bad_idat, "either", width=16, height=16)

    # ---- JPEG ----
    q = quadrants(64, 48)
    accept("jpeg-baseline.jpg", pil_bytes(q, "JPEG", quality=92), 64, 48, pixels=corners(q), tolerance=40)
    accept("jpeg-progressive.jpg", pil_bytes(q, "JPEG", quality=92, progressive=True), 64, 48, pixels=corners(q), tolerance=40)
    accept("jpeg-grey.jpg", pil_bytes(q.convert("L"), "JPEG", quality=92), 64, 48,
           pixels=[(x, y, v, v, v) for x, y, v in ((3, 3, q.convert("L").getpixel((3, 3))),)], tolerance=40)
    cmyk = q.convert("CMYK")
    accept("jpeg-cmyk.jpg", pil_bytes(cmyk, "JPEG", quality=92), 64, 48, pixels=corners(q), tolerance=60)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        photo = quadrants(40, 20)
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(pil_bytes(photo, "JPEG", quality=95, exif=exif.tobytes()))))
        accept(f"jpeg-exif-orientation-{orientation}.jpg", pil_bytes(photo, "JPEG", quality=95, exif=exif.tobytes()),
               upright.size[0], upright.size[1], pixels=corners(upright), tolerance=40)
    baseline = pil_bytes(q, "JPEG", quality=92)
    write("jpeg-truncated.jpg", baseline[: len(baseline) // 2], "either", width=64, height=48)
    sof = baseline.index(b"\xff\xc0")
    huge = bytearray(baseline)
    huge[sof + 5:sof + 9] = struct.pack(">HH", 65000, 65000)
    refuse("jpeg-header-65000x65000.jpg", bytes(huge), "65000×65000")
    arithmetic = bytearray(baseline)
    arithmetic[sof + 1] = 0xC9
    refuse("jpeg-arithmetic.jpg", bytes(arithmetic), "arithmetic-coded")
    refuse("jpeg-no-frame.jpg", b"\xff\xd8\xff\xd9", "no frame header")

    # ---- WebP ----
    accept("webp-lossy.webp", pil_bytes(q, "WEBP", quality=90), 64, 48, pixels=corners(q), tolerance=40)
    accept("webp-lossless.webp", pil_bytes(q.convert("RGBA"), "WEBP", lossless=True), 64, 48, pixels=corners(q))
    frames = [quadrants(32, 32), ImageOps.mirror(quadrants(32, 32))]
    refuse("webp-animated.webp", pil_bytes(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, loop=0),
           "WebP is animated", e2e=True)
    lossless = bytearray(pil_bytes(q, "WEBP", lossless=True))
    vp8l = lossless.index(b"VP8L") + 8
    bits = (16383 - 1) | ((16383 - 1) << 14)
    lossless[vp8l + 1:vp8l + 5] = struct.pack("<I", bits | (struct.unpack("<I", bytes(lossless[vp8l + 1:vp8l + 5]))[0] & 0xF0000000))
    refuse("webp-header-16383x16383.webp", bytes(lossless), "16383×16383")
    lossy = pil_bytes(q, "WEBP", quality=90)
    refuse("webp-truncated.webp", lossy[: len(lossy) // 2], "cut short")

    # ---- formats T2I Studio does not read ----
    refuse("gif-still.gif", pil_bytes(q.convert("P"), "GIF"), "GIF")
    refuse("gif-animated.gif", pil_bytes(frames[0].convert("P"), "GIF", save_all=True, append_images=[f.convert("P") for f in frames[1:]],
                                         duration=100, loop=0), "GIF", e2e=True)
    refuse("bmp.bmp", pil_bytes(q, "BMP"), "BMP")
    refuse("tiff.png", pil_bytes(q, "TIFF"), "TIFF")
    for ext in ("png", "jpg", "webp"):
        refuse(f"random-bytes.{ext}", bytes(RNG.randrange(256) for _ in range(4096)), "not a PNG, JPEG or WebP")
    refuse("empty.png", b"", "not a PNG, JPEG or WebP")

    # ---- masks: checked against the image they belong to (64×48) ----
    mask = png(64, 48, [bytes(255 if 10 <= x < 30 else 0 for x in range(64)) for _ in range(48)], colour=0)
    accept("mask-ok.png", mask, 64, 48, mask=True, pixels=[(15, 10, 255, 255, 255), (40, 10, 0, 0, 0)])
    refuse("mask-wrong-size.png", png(32, 32, [bytes([255] * 32)] * 32, colour=0), "The mask is 32×32; the image is 64×48.", mask=True)
    refuse("mask-not-png.jpg", pil_bytes(Image.new("L", (64, 48), 255), "JPEG"), "The mask is not a readable PNG image.", mask=True)

    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(MANIFEST, f, ensure_ascii=False, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, e["file"])) for e in MANIFEST)
    print(f"{len(MANIFEST)} files, {total / 1024:.0f} KB in {os.path.abspath(OUT)}")


if __name__ == "__main__":
    main()
