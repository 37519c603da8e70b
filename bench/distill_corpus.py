#!/usr/bin/env python3
"""Unlabelled sentences for distilling a TextCNN body from a sentence encoder, built from
what the few-shot benchmark lets a body learn from: the other 5 domains' sentences
(pretrain.json's train/val/test) and oos_train. Nothing of the evaluation domains.

  small: those 11,350 sentences, plus 3 noisy copies of each (per word: 10% [MASK], 15% a
         random vocabulary word; a quarter of the copies cut to a random 1-5 word span),
         45,400 in all.
  large: small, plus 3 copies with 35% of the words replaced by random vocabulary words and
         20,000 strings of 2-8 random vocabulary words, 99,450 in all: every word of the
         tokenizer's vocabulary appears in some context, not only the other domains' words.

Usage: distill_corpus.py PRETRAIN.json TOKENIZER.json {small,large} OUT.json
"""
import json, random, re, sys


def words_of(tokenizer):
    vocab = json.load(open(tokenizer))["model"]["vocab"]
    return [w for w in vocab if re.fullmatch(r"[a-z]{2,}", w)]


def small(base, words, rng):
    def noisy(s):
        out = []
        for w in s.split():
            r = rng.random()
            out.append("[MASK]" if r < 0.1 else rng.choice(words) if r < 0.25 else w)
        if rng.random() < 0.25 and len(out) > 2:
            n = rng.randint(1, min(5, len(out)))
            i = rng.randint(0, len(out) - n)
            out = out[i:i + n]
        return " ".join(out)
    corpus = list(base)
    for _ in range(3):
        corpus += [noisy(s) for s in base]
    return corpus


def large_extra(base, words, rng):
    extra = []
    for _ in range(3):
        extra += [" ".join(rng.choice(words) if rng.random() < 0.35 else w for w in s.split())
                  for s in base]
    for _ in range(20000):
        extra.append(" ".join(rng.choice(words) for _ in range(rng.randint(2, 8))))
    return extra


def main():
    pretrain, tokenizer, size, out = sys.argv[1:5]
    d = json.load(open(pretrain))
    base = [s for k in ("train", "val", "test") for s, _ in d[k]]
    base += [s[0] if isinstance(s, list) else s for s in d["oos_train"]]
    words = words_of(tokenizer)
    corpus = small(base, words, random.Random(7))
    if size == "large":
        corpus += large_extra(base, words, random.Random(8))
    json.dump(corpus, open(out, "w"))
    print(f"{out}: {len(corpus)} sentences")


if __name__ == "__main__":
    main()
