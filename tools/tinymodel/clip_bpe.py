"""CLIP's byte-level BPE for plain captions (lower-case ASCII letters, digits and spaces), so the trainer
gives the text encoder exactly the ids the C# tokenizer (Microsoft.ML.Tokenizers, DESIGN.md) will give it.
Captions are normalised to that alphabet first (normalise), which keeps CLIP's pre-tokenizer trivial:
runs of letters and single digits. Checked against the golden ids in the tests (python3 clip_bpe.py).
"""
import json
import os
import re
import unicodedata

BOS, EOS, SEQ = 49406, 49407, 77
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "../../tests/T2IStudio.Generation.Tests/TestData/clip-tokenizer")


def normalise(text):
    """Lower-case ASCII words and digits separated by single spaces ("Piñata" -> "pinata", "T-Rex" -> "t rex")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("'", "")
    return " ".join(re.findall(r"[a-z]+|[0-9]", text))


class ClipBpe:
    def __init__(self, folder=DEFAULT):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = f.read().split("\n")[1:49152 - 256 - 2 + 1]
        self.ranks = {tuple(line.split()): i for i, line in enumerate(lines) if line}
        self.cache = {}

    def word(self, word):
        """BPE of one lower-case ASCII word (ASCII letters and digits map to themselves in CLIP's byte alphabet)."""
        if word in self.cache:
            return self.cache[word]
        parts = list(word[:-1]) + [word[-1] + "</w>"]
        while len(parts) > 1:
            pairs = [(self.ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(parts, parts[1:]))]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            first, second = parts[i], parts[i + 1]
            merged, j = [], 0
            while j < len(parts):
                if j < len(parts) - 1 and parts[j] == first and parts[j + 1] == second:
                    merged.append(first + second)
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def ids(self, caption):
        """[BOS, ids…, EOS] of a normalised caption, without padding."""
        out = [BOS]
        for w in normalise(caption).split():
            out += self.word(w)
        return out + [EOS]

    def ids77(self, caption):
        ids = self.ids(caption)[:SEQ]
        ids[-1] = EOS
        return ids + [EOS] * (SEQ - len(ids))


if __name__ == "__main__":
    bpe = ClipBpe()
    with open(os.path.join(DEFAULT, "golden.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    checked = 0
    for case in cases:
        if normalise(case["prompt"]) == case["prompt"].strip().lower() and case["prompt"] == case["prompt"].lower():
            assert bpe.ids(case["prompt"]) == case["ids"], case["prompt"]
            checked += 1
    print(f"{checked} golden prompts in the plain alphabet match")
