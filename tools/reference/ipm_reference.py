#!/usr/bin/python3
"""Reference training loop: the paper's Fig. 2 losses and §4.1 CNN in plain PyTorch.

What ipm-dist is compared against (accuracy side by side, and samples/s in the
benchmark). It reads the IDX files directly, so it shares no code with the C++
product. Zero prior entries are clamped at 1e-9 before the log, as the authors'
code does. Run with Debian's python3-torch:

  /usr/bin/python3 tools/reference/ipm_reference.py --idx /usr/share/datasets/fashion-mnist \
      --loss rq --k 1 --epochs 10 --batch 256 --lr 1e-3 --threads 1

--h5 FILE reads an ipm-dist data file instead (/train and /test x, y; e.g. data/mnist.h5
from scripts/get-mnist.sh: the same rows ipm-dist trains on), with h5py only.

Prints one JSON object per epoch (epoch, loss, test_acc, train_acc, samples_per_s).
With --bench-steps N it only times N steady-state steps and prints samples/s.
"""
import argparse
import gzip
import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def read_h5(path):
    """x uint8 [N, C, H, W] (or float32, used as stored), y int64 [N] of both splits."""
    import h5py
    with h5py.File(path, "r") as f:
        return ([f[s]["x"][...] for s in ("train", "test")],
                [f[s]["y"][...].astype(np.int64) for s in ("train", "test")],
                int(f.attrs["num_classes"]))


# --- Fig. 2 of the paper, verbatim but for the 1e-9 clamp ------------------------
def ce_loss(log_q, prior):
    return -(log_q * prior).sum(1)


def nll_loss(log_q, prior):
    return -torch.logsumexp(log_q + prior.clamp_min(1e-9).log(), 1)


def qr_loss(log_q, prior):
    log_r = (log_q.log_softmax(0) + prior.clamp_min(1e-9).log()).log_softmax(1)
    return (log_q * log_q.exp()).sum(1) - (log_r * log_q.exp()).sum(1)


def rq_loss(log_q, prior):
    log_r = (log_q.log_softmax(0) + prior.clamp_min(1e-9).log()).log_softmax(1)
    return (log_r * log_r.exp()).sum(1) - (log_q * log_r.exp()).sum(1)


LOSSES = {"ce": ce_loss, "nll": nll_loss, "qr": qr_loss, "rq": rq_loss}


def small_cnn(in_ch, num_classes):
    # §4.1: four ReLU 3x3 convolutions (32 channels; strides 1,2,2,2) and a linear map.
    return nn.Sequential(
        nn.Conv2d(in_ch, 32, 3, 1, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 4 * 4, num_classes))


def negative_prior(y, k, num_classes, rng):
    """k wrong labels per sample, uniform over the rest."""
    n = len(y)
    prior = np.ones((n, num_classes), dtype=np.float32)
    for i in range(n):
        wrong = [c for c in range(num_classes) if c != y[i]]
        prior[i, rng.choice(wrong, size=k, replace=False)] = 0.0
    return prior / prior.sum(1, keepdims=True)


def accuracy(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(x), batch):
            correct += (model(x[s:s + batch]).argmax(1) == y[s:s + batch]).sum().item()
    model.train()
    return correct / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--idx", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--h5", default="", help="an ipm-dist HDF5 data file instead of --idx")
    ap.add_argument("--no-train-acc", action="store_true",
                    help="skip the accuracy over the whole train split after each epoch")
    ap.add_argument("--loss", choices=sorted(LOSSES), default="rq")
    ap.add_argument("--k", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--train-subset", type=int, default=0, help="first N training images")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--bench-steps", type=int, default=0,
                    help="time this many steps after a warm-up and print samples/s")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    num_classes = 10
    if args.h5:
        (xtr, xte), (ytr, yte), num_classes = read_h5(args.h5)
    else:
        xtr = read_idx(f"{args.idx}/train-images-idx3-ubyte.gz")[:, None]
        ytr = read_idx(f"{args.idx}/train-labels-idx1-ubyte.gz").astype(np.int64)
        xte = read_idx(f"{args.idx}/t10k-images-idx3-ubyte.gz")[:, None]
        yte = read_idx(f"{args.idx}/t10k-labels-idx1-ubyte.gz").astype(np.int64)
    if args.train_subset:
        xtr, ytr = xtr[:args.train_subset], ytr[:args.train_subset]
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    scale = lambda a: a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    to_x = lambda a: torch.from_numpy(scale(a)).contiguous(memory_format=fmt)
    xtr_t, xte_t = to_x(xtr), to_x(xte)
    ytr_t, yte_t = torch.from_numpy(ytr), torch.from_numpy(yte)
    prior = torch.from_numpy(negative_prior(ytr, args.k, num_classes, rng))

    model = small_cnn(xtr_t.shape[1], num_classes).to(memory_format=fmt)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = LOSSES[args.loss]

    def step(idx):
        log_q = model(xtr_t[idx]).log_softmax(1)
        loss = loss_fn(log_q, prior[idx]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    n = len(xtr_t)
    if args.bench_steps:
        g = torch.Generator().manual_seed(args.seed)
        batches = [torch.randint(0, n, (args.batch,), generator=g) for _ in range(args.bench_steps + 5)]
        for idx in batches[:5]:
            step(idx)
        t0 = time.perf_counter()
        for idx in batches[5:]:
            step(idx)
        dt = time.perf_counter() - t0
        print(json.dumps({"impl": "python", "samples_per_s": args.bench_steps * args.batch / dt,
                          "steps": args.bench_steps, "batch": args.batch}))
        return

    g = torch.Generator().manual_seed(args.seed)
    peak = 0.0
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(n, generator=g)
        t0 = time.perf_counter()
        total, steps = 0.0, 0
        for s in range(0, n - args.batch + 1, args.batch):
            total += step(order[s:s + args.batch])
            steps += 1
        dt = time.perf_counter() - t0
        test_acc = accuracy(model, xte_t, yte_t)
        peak = max(peak, test_acc)
        print(json.dumps({"epoch": epoch, "loss": total / steps, "test_acc": test_acc,
                          "peak_test_acc": peak, "train_acc": None if args.no_train_acc else accuracy(model, xtr_t, ytr_t),
                          "samples_per_s": steps * args.batch / dt}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
