#!/usr/bin/env python3
"""Writes CLINC150-layout splits of examples/bilingual for bench/multilingual.sh.

  bench/bilingual_splits.py OUT_DIR
    OUT_DIR/both.json    train/val/test over both languages: per intent 70/15/15 of data.json
                         (seeded shuffle), test also gets every held-out known query; negatives
                         60/20/20 of noise.json, oos_test also gets the held-out unknown ones.
    OUT_DIR/en-to-zh.json cross-lingual: train/val on the English sentences and negatives only
                         (80/20), test on every Chinese sentence and negative (data.json,
                         noise.json and heldout.json); mixed-language sentences are left out.
    OUT_DIR/texts-{en,zh,mixed}.json  the held-out queries by language (tokenizer figures).
"""
import json, os, random, re, sys

out = sys.argv[1]
root = os.path.join(os.path.dirname(__file__), "..", "examples", "bilingual")
data = json.load(open(os.path.join(root, "data.json")))
noise = json.load(open(os.path.join(root, "noise.json")))
held = json.load(open(os.path.join(root, "heldout.json")))


def language(s):
    cjk, latin = re.search(r"[\u3400-\u9fff]", s), re.search(r"[A-Za-z]", s)
    return "mixed" if cjk and latin else "zh" if cjk else "en"


def cut(items, fractions, seed):
    items = list(items)
    random.Random(seed).shuffle(items)
    bounds, acc = [], 0.0
    for f in fractions[:-1]:
        acc += f
        bounds.append(round(acc * len(items)))
    parts, start = [], 0
    for b in bounds + [len(items)]:
        parts.append(items[start:b])
        start = b
    return parts


def layout(train, val, test, oos_train, oos_val, oos_test):
    pairs = lambda rows: [[t, i] for t, i in rows]
    oos = lambda texts: [[t, "oos"] for t in texts]
    return {"train": pairs(train), "val": pairs(val), "test": pairs(test),
            "oos_train": oos(oos_train), "oos_val": oos(oos_val), "oos_test": oos(oos_test)}


os.makedirs(out, exist_ok=True)
held_known = [(k["text"], k["intent"]) for k in held["known"]]
held_unknown = held["unknown"]

# Both languages.
train, val, test = [], [], []
for k, (intent, sentences) in enumerate(sorted(data.items())):
    a, b, c = cut(sentences, [0.7, 0.15, 0.15], seed=k)
    train += [(s, intent) for s in a]; val += [(s, intent) for s in b]; test += [(s, intent) for s in c]
n_train, n_val, n_test = cut(noise, [0.6, 0.2, 0.2], seed=99)
json.dump(layout(train, val, test + held_known, n_train, n_val, n_test + held_unknown),
          open(os.path.join(out, "both.json"), "w"), ensure_ascii=False)

# English -> Chinese.
train, val, test = [], [], []
for k, (intent, sentences) in enumerate(sorted(data.items())):
    a, b = cut([s for s in sentences if language(s) == "en"], [0.8, 0.2], seed=k)
    train += [(s, intent) for s in a]; val += [(s, intent) for s in b]
    test += [(s, intent) for s in sentences if language(s) == "zh"]
test += [(t, i) for t, i in held_known if language(t) == "zh"]
n_train, n_val = cut([s for s in noise if language(s) == "en"], [0.8, 0.2], seed=99)
n_test = [s for s in noise + held_unknown if language(s) == "zh"]
json.dump(layout(train, val, test, n_train, n_val, n_test),
          open(os.path.join(out, "en-to-zh.json"), "w"), ensure_ascii=False)

for lang in ("en", "zh", "mixed"):
    texts = [t for t, _ in held_known if language(t) == lang] + [t for t in held_unknown if language(t) == lang]
    json.dump(texts, open(os.path.join(out, f"texts-{lang}.json"), "w"), ensure_ascii=False)
print(f"wrote {out}/both.json, en-to-zh.json, texts-*.json")
