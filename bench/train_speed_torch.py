"""The TextCNN and loss of `trainer train`'s defaults, in PyTorch, timed per epoch.

The reference side of bench/train-speed.sh: the seed project's way of training (three
forward passes per step, known sentences, Gaussian noise and negative sentences, each batch
padded to its longest sentence and normalized by BatchNorm on its own; one backward), with
the trainer's shapes and defaults (128-dim token rows, 128 channels, kernels 3/4/5 with
zero padding 1/1/2, dropout 0.5, batch 24, AdamW 8e-4 with a cosine schedule, hinge energy
loss with margins -8 / -2 at weight 0.1). Sentences are tokenized with the same
tokenizer.json, so every batch has the lengths the trainer's has; the token rows are random
(the values do not change the work), frozen as the trainer's table is.

Prints one JSON object per epoch: {"epoch", "train_seconds", "validation_seconds"}.
"""

import argparse
import json
import math
import random
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

KERNELS = [(3, 1), (4, 1), (5, 2)]
DIM = 128
CHANNELS = 128
MAX_LEN = 64
MIN_LEN = 5  # the longest kernel: the trainer's `min_len`


def read_data(path, noise_path, val_fraction, seed):
    """(train [(text, label)], val [(text, label)], negatives train, negatives val)."""
    data = json.load(open(path))
    if "train" in data:  # CLINC150's data_full.json layout
        labels = sorted({y for _, y in data["train"]})
        index = {y: i for i, y in enumerate(labels)}
        train = [(t, index[y]) for t, y in data["train"]]
        val = [(t, index[y]) for t, y in data["val"]]
        return train, val, [t for t, _ in data["oos_train"]], [t for t, _ in data["oos_val"]], len(labels)
    rng = random.Random(seed)
    train, val = [], []
    for label, (_, sentences) in enumerate(data.items()):
        sentences = list(sentences)
        rng.shuffle(sentences)
        n_val = round(len(sentences) * val_fraction)
        val += [(t, label) for t in sentences[:n_val]]
        train += [(t, label) for t in sentences[n_val:]]
    negatives = json.load(open(noise_path)) if noise_path else []
    rng.shuffle(negatives)
    n_val = round(len(negatives) * val_fraction)
    return train, val, negatives[n_val:], negatives[:n_val], len(data)


class TextCnn(torch.nn.Module):
    def __init__(self, vocab, labels):
        super().__init__()
        self.table = torch.nn.Embedding(vocab, DIM)
        self.table.weight.requires_grad_(False)
        self.convs = torch.nn.ModuleList(
            torch.nn.Conv1d(DIM, CHANNELS, k, padding=p, bias=False) for k, p in KERNELS
        )
        self.norms = torch.nn.ModuleList(torch.nn.BatchNorm1d(CHANNELS) for _ in KERNELS)
        self.dropout = torch.nn.Dropout(0.5)
        self.classifier = torch.nn.Linear(CHANNELS * len(KERNELS), labels)

    def features(self, x):
        """x: [batch, tokens, DIM] -> pooled [batch, features]."""
        x = x.transpose(1, 2)
        pooled = [F.relu(n(c(x))).amax(dim=2) for c, n in zip(self.convs, self.norms)]
        return self.dropout(torch.cat(pooled, 1))

    def forward(self, ids):
        return self.classifier(self.features(self.table(ids)))

    def forward_rows(self, rows):
        return self.classifier(self.features(rows))


def padded(batch_ids):
    """Ids padded with 0 to the batch's longest (at least MIN_LEN): [batch, tokens]."""
    longest = max(MIN_LEN, max(len(ids) for ids in batch_ids))
    out = torch.zeros(len(batch_ids), longest, dtype=torch.long)
    for r, ids in enumerate(batch_ids):
        out[r, : len(ids)] = torch.tensor(ids)
    return out


def energy(logits):
    return -torch.logsumexp(logits, dim=1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--noise")
    parser.add_argument("--tokenizer", required=True)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)

    tokenizer = Tokenizer.from_file(args.tokenizer)
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_LEN)
    encode = lambda texts: [e.ids for e in tokenizer.encode_batch(list(texts))]
    train, val, neg_train, neg_val, labels = read_data(args.data, args.noise, 0.2, args.seed)
    train_ids, val_ids = encode(t for t, _ in train), encode(t for t, _ in val)
    neg_train_ids, neg_val_ids = encode(neg_train), encode(neg_val)

    model = TextCnn(tokenizer.get_vocab_size(), labels)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=8e-4, weight_decay=0.0)
    batch_size = 24
    steps_per_epoch = math.ceil(len(train) / batch_size)
    total = steps_per_epoch * args.epochs
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 0.5 * (1 + math.cos(math.pi * s / total)))
    negative_cursor = 0

    for epoch in range(1, args.epochs + 1):
        started = time.perf_counter()
        model.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        for s in range(steps_per_epoch):
            batch = order[s * batch_size : (s + 1) * batch_size]
            known = padded([train_ids[i] for i in batch])
            targets = torch.tensor([train[i][1] for i in batch])
            logits = model(known)
            noise = torch.randn(len(batch), known.shape[1], DIM)
            noise_logits = model.forward_rows(noise)
            unknown_e = [energy(noise_logits)]
            if neg_train_ids:
                picks = [(negative_cursor + j) % len(neg_train_ids) for j in range(len(batch))]
                negative_cursor += len(batch)
                unknown_e.append(energy(model(padded([neg_train_ids[i] for i in picks]))))
            e_known = energy(logits)
            energy_loss = F.relu(e_known + 8.0).pow(2).mean()
            for e in unknown_e:
                energy_loss = energy_loss + F.relu(-2.0 - e).pow(2).mean()
            loss = F.cross_entropy(logits, targets) + 0.1 * energy_loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
        trained = time.perf_counter()
        model.eval()
        with torch.no_grad():
            for ids in (val_ids, neg_val_ids):
                for s in range(0, len(ids), 256):
                    energy(model(padded(ids[s : s + 256])))
        validated = time.perf_counter()
        print(json.dumps({
            "epoch": epoch,
            "train_seconds": trained - started,
            "validation_seconds": validated - trained,
        }), flush=True)


if __name__ == "__main__":
    main()
