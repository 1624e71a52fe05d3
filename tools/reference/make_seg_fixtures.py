#!/usr/bin/python3
"""Reference values for segmentation (image-shaped) losses and coarse priors, for
tests/seg_test.cc. Float64 PyTorch, written independently of the C++ code (NCHW throughout,
no flattening), to tests/data/seg_fixtures.txt:

  /usr/bin/python3 tools/reference/make_seg_fixtures.py            # rewrites the fixture
  /usr/bin/python3 tools/reference/make_seg_fixtures.py --check    # exit 1 if it differs

The coarse prior follows App. E.1.2 in its own order: one-hot coarse map at pixel resolution,
Gaussian blur of every channel (kernel exp(-k^2 / 2 sigma^2), k = -R..R, R = ceil(4 sigma),
normalized; edge pixels replicated), then remapped through p(l | c) (the co-occurrence rows
normalized) and normalized per pixel, then E.1.3's additive smoothing (p + eps) / (1 + L eps).
(The C++ remaps first and blurs after: both maps are linear, the result must agree.)

Losses over all pixels, as DESIGN.md states them, with the local normalizer over the batch
and every pixel: log Z_l = logsumexp over (n, u, v) of log q; log q = log_softmax over l of
the logits; r = softmax_l(log q - log Z + log p) (Eq. 3); per-pixel CE, hard CE (-log q at
argmax_l p), NLL, QR (prior floored at 1e-9), RQ, and Eq. 5's free energy
sum_l q (log Z - log p) ("free_energy"); the loss is the mean over N*H*W pixels.
Gradients are d loss / d logits [N, L, H, W].

File format (whitespace separated, '#' comments):
  seg_case <name> <N> <L> <H> <W> <C> <h> <w>
  cooccurrence   C lines of L values (counts)
  coarse         N*h lines of w integers
  blur <sigma>   smoothing <eps>
  prior          N*L*H lines of W values (NCHW order)
  logits         N*L*H lines of W values
  loss <name> <value>   then N*L*H lines of W values (gradient), for each of LOSSES
  end
"""
import argparse
import io
import math
import os
import sys

import torch

SEED = 20241125
QR_PRIOR_FLOOR = 1e-9
LOSSES = ("ce", "hard_ce", "nll", "qr", "rq", "free_energy")


def gaussian_kernel(sigma):
    r = math.ceil(4.0 * sigma)
    k = torch.tensor([math.exp(-(i * i) / (2.0 * sigma * sigma)) for i in range(-r, r + 1)],
                     dtype=torch.float64)
    return k / k.sum(), r


def blur(maps, sigma):
    """maps [N, K, H, W]; separable, indices clamped at the border (replicate)."""
    if sigma == 0:
        return maps
    g, r = gaussian_kernel(sigma)
    n, k, h, w = maps.shape
    out = torch.zeros_like(maps)
    for v in range(w):
        for j in range(-r, r + 1):
            out[..., v] += g[j + r] * maps[..., min(max(v + j, 0), w - 1)]
    res = torch.zeros_like(out)
    for u in range(h):
        for j in range(-r, r + 1):
            res[..., u, :] += g[j + r] * out[..., min(max(u + j, 0), h - 1), :]
    return res


def coarse_prior(cooc, coarse, H, W, sigma, eps):
    N, h, w = coarse.shape
    C, L = cooc.shape
    cond = cooc / cooc.sum(1, keepdim=True)
    onehot = torch.zeros(N, C, H, W, dtype=torch.float64)
    for n in range(N):
        for u in range(H):
            for v in range(W):
                onehot[n, coarse[n, u // (H // h), v // (W // w)], u, v] = 1.0
    b = blur(onehot, sigma)
    p = torch.einsum("ncuv,cl->nluv", b, cond)
    p = p / p.sum(1, keepdim=True)
    return (p + eps) / (1.0 + L * eps)


def losses(logits, prior):
    log_q = torch.log_softmax(logits, 1)
    log_z = torch.logsumexp(log_q, dim=(0, 2, 3), keepdim=True)  # [1, L, 1, 1]

    def log_r_of(p):
        return torch.log_softmax(log_q - log_z + p.log(), 1)

    out = {}
    out["ce"] = -(prior * log_q).sum(1)
    out["hard_ce"] = -log_q.gather(1, prior.argmax(1, keepdim=True)).squeeze(1)
    out["nll"] = -(prior * log_q.exp()).sum(1).log()
    lr_qr = log_r_of(prior.clamp_min(QR_PRIOR_FLOOR))
    out["qr"] = (log_q.exp() * (log_q - lr_qr)).sum(1)
    lr = log_r_of(prior)  # prior > 0 everywhere here (smoothed)
    out["rq"] = (lr.exp() * (lr - log_q)).sum(1)
    # Eq. 5: sum_l q (log sum_j q_j - log p), per pixel (its sum over pixels is F).
    out["free_energy"] = (log_q.exp() * (log_z - prior.clamp_min(QR_PRIOR_FLOOR).log())).sum(1)
    return {k: v.mean() for k, v in out.items()}


def rows(f, t):
    for row in t.reshape(-1, t.shape[-1]).tolist():
        f.write(" ".join("%.17g" % x for x in row) + "\n")


def write_case(f, name, g, N, L, H, W, C, h, w, sigma, eps):
    cooc = torch.randint(0, 20, (C, L), generator=g).to(torch.float64)
    cooc[:, 0] += 1.0  # no zero row or column
    coarse = torch.randint(0, C, (N, h, w), generator=g)
    prior = coarse_prior(cooc, coarse, H, W, sigma, eps)
    logits = torch.randn(N, L, H, W, generator=g, dtype=torch.float64) * 1.5
    f.write("seg_case %s %d %d %d %d %d %d %d\n" % (name, N, L, H, W, C, h, w))
    f.write("cooccurrence\n")
    rows(f, cooc)
    f.write("coarse\n")
    for row in coarse.reshape(-1, w).tolist():
        f.write(" ".join(str(x) for x in row) + "\n")
    f.write("blur %.17g smoothing %.17g\n" % (sigma, eps))
    f.write("prior\n")
    rows(f, prior)
    f.write("logits\n")
    rows(f, logits)
    for k in LOSSES:
        x = logits.clone().requires_grad_(True)
        v = losses(x, prior)[k]
        v.backward()
        f.write("loss %s %.17g\n" % (k, v.item()))
        rows(f, x.grad)
    f.write("end\n")


def generate():
    g = torch.Generator().manual_seed(SEED)
    f = io.StringIO()
    f.write("# Generated by tools/reference/make_seg_fixtures.py (seed %d); do not edit.\n" % SEED)
    write_case(f, "blur_2x3x4x6", g, 2, 3, 4, 6, 4, 2, 3, 0.8, 1e-4)
    write_case(f, "noblur_3x4x6x4", g, 3, 4, 6, 4, 5, 3, 2, 0.0, 1e-4)
    write_case(f, "wideblur_1x2x8x8", g, 1, 2, 8, 8, 3, 2, 2, 3.0, 0.0)
    return f.getvalue()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "seg_fixtures.txt")
    text = generate()
    if a.check:
        with open(path) as f:
            same = f.read() == text
        print("seg fixtures " + ("match" if same else "DIFFER"))
        sys.exit(0 if same else 1)
    with open(path, "w") as f:
        f.write(text)
    print("wrote " + os.path.normpath(path))


if __name__ == "__main__":
    main()
