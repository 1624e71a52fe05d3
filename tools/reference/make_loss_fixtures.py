#!/usr/bin/python3
"""Reference values and gradients of the CE / NLL / QR / RQ losses for tests/losses_test.cc.

Computes the losses of the paper's Fig. 2 (local normalizer: log Z_l = logsumexp_i log q_il,
i.e. log_q.log_softmax(0) = log_q - log Z) in float64 PyTorch with autograd, independently
of the C++ code, and writes tests/data/loss_fixtures.txt. Run with Debian's python3-torch:

  /usr/bin/python3 tools/reference/make_loss_fixtures.py            # rewrites the fixture
  /usr/bin/python3 tools/reference/make_loss_fixtures.py --check    # exit 1 if it differs

Definitions (what losses/implicit_losses.h documents):
  r_il  = p_il q_il / Z_l / sum_l' (p_il' q_il' / Z_l')                  (Eq. 3)
  CE_i  = -sum_l p_il log q_il
  NLL_i = -log sum_l p_il q_il                                          (prior-weighted)
  QR_i  = sum_l q_il (log q_il - log r~_il), r~ built from max(p, 1e-9)  (Eq. 4, as the C++)
  RQ_i  = sum_{l: p_il > 0} r_il (log r_il - log q_il)                   (exact: 0 log 0 = 0)
Zero prior entries are handled exactly for CE, NLL and RQ (never logged: r and p q are formed
in linear space, and log r is only taken on the support); QR floors the prior at 1e-9.
Every value is cross-checked against Fig. 2 verbatim with the prior clamped at 1e-300, which
in float64 equals exact masking to far below the test tolerance.

Gradients are d(mean_i loss_i)/d log_q with log_q itself the leaf (not the logits), entries
perturbed independently (no renormalization), as the C++ test does.

File format (whitespace separated, '#' lines are comments):
  case <name> <M> <L>
  log_q            then M lines of L values
  prior            then M lines of L values
  loss <ce|nll|qr|rq>
  value            then one line of M values (per-sample loss)
  grad             then M lines of L values
  ... (four loss blocks) ...
  end
All numbers are float64 printed with %.17g.
"""
import argparse
import io
import os
import sys

import numpy as np
import torch

QR_PRIOR_FLOOR = 1e-9
SEED = 20240611
LOSSES = ("ce", "nll", "qr", "rq")


# --- exact reference losses -----------------------------------------------------------------
def log_z_local(log_q):
    return torch.logsumexp(log_q, 0)  # [L]


def implied_posterior(log_q, prior):
    """r [M, L] in linear space and log r [M, L] (finite everywhere: log r is only valid on the
    support, callers mask it)."""
    a = log_q - log_z_local(log_q).unsqueeze(0)
    a = a - a.max(1, keepdim=True).values.detach()  # shift per row: r is invariant
    support = prior > 0
    w = prior * a.exp()
    c = w.sum(1, keepdim=True)
    r = w / c
    log_r = torch.where(support, prior, torch.ones_like(prior)).log() + a - c.log()
    return r, log_r


def ce(log_q, prior):
    return -(prior * log_q).sum(1)


def nll(log_q, prior):
    return -(prior * log_q.exp()).sum(1).log()


def qr(log_q, prior):
    p = prior.clamp_min(QR_PRIOR_FLOOR)
    _, log_r = implied_posterior(log_q, p)  # p > 0 everywhere: log_r exact everywhere
    return (log_q.exp() * (log_q - log_r)).sum(1)


def rq(log_q, prior):
    r, log_r = implied_posterior(log_q, prior)
    support = prior > 0
    return (r * torch.where(support, log_r - log_q, torch.zeros_like(log_q))).sum(1)


EXACT = {"ce": ce, "nll": nll, "qr": qr, "rq": rq}


# --- Fig. 2 verbatim (clamped), for the cross-check only --------------------------------------
def fig2(kind, log_q, prior):
    if kind == "ce":
        return -(log_q * prior).sum(1)
    floor = QR_PRIOR_FLOOR if kind == "qr" else 1e-300
    lp = prior.clamp_min(floor).log()
    if kind == "nll":
        return -torch.logsumexp(log_q + lp, 1)
    log_r = (log_q.log_softmax(0) + lp).log_softmax(1)
    if kind == "qr":
        return (log_q * log_q.exp()).sum(1) - (log_r * log_q.exp()).sum(1)
    return (log_r * log_r.exp()).sum(1) - (log_q * log_r.exp()).sum(1)


def value_and_grad(fn, log_q, prior):
    x = log_q.detach().clone().requires_grad_(True)
    v = fn(x, prior)
    v.mean().backward()
    return v.detach(), x.grad.detach()


# --- cases ----------------------------------------------------------------------------------
def log_softmax_logits(rng, m, l, scale):
    logits = torch.from_numpy(rng.normal(0.0, scale, size=(m, l)))
    return torch.log_softmax(logits, 1)


def negative_prior(rng, m, l, k):
    p = np.ones((m, l))
    for i in range(m):
        p[i, rng.choice(l, size=k, replace=False)] = 0.0
    return torch.from_numpy(p / p.sum(1, keepdims=True))


def make_cases():
    rng = np.random.default_rng(SEED)
    cases = []
    # (a) dense random prior
    cases.append(("dense_7x5", log_softmax_logits(rng, 7, 5, 1.5),
                  torch.from_numpy(rng.dirichlet(np.ones(5), size=7))))
    # (b) negative labels, uniform over the allowed classes
    cases.append(("neg_k1_9x10", log_softmax_logits(rng, 9, 10, 2.0), negative_prior(rng, 9, 10, 1)))
    cases.append(("neg_k3_9x10", log_softmax_logits(rng, 9, 10, 2.0), negative_prior(rng, 9, 10, 3)))
    # (c) one-hot priors (hard labels)
    y = rng.integers(0, 4, size=8)
    cases.append(("onehot_8x4", log_softmax_logits(rng, 8, 4, 2.0),
                  torch.nn.functional.one_hot(torch.from_numpy(y), 4).double()))
    # (d) 64 x 10, rows with 0..8 zeros and random (non-uniform) weights on the rest;
    #     every 4th row uniform over its support, a few one-hot rows, a few dense rows.
    m, l = 64, 10
    p = np.zeros((m, l))
    for i in range(m):
        nz = int(rng.integers(0, l - 1)) if i % 8 else (l - 1 if i % 16 else 0)
        allowed = rng.choice(l, size=l - nz, replace=False)
        w = np.ones(len(allowed)) if i % 4 == 0 else rng.dirichlet(np.ones(len(allowed)))
        p[i, allowed] = w / w.sum()
    cases.append(("mixed_64x10", log_softmax_logits(rng, m, l, 3.0), torch.from_numpy(p)))
    # (e) confident predictions (log q down to about -60) with negative labels k=2
    cases.append(("peaked_16x6", log_softmax_logits(rng, 16, 6, 8.0), negative_prior(rng, 16, 6, 2)))
    return cases


def fmt_row(values):
    return " ".join("%.17g" % float(v) for v in values)


def render():
    out = io.StringIO()
    out.write("# Generated by tools/reference/make_loss_fixtures.py (seed %d); do not edit.\n" % SEED)
    out.write("# Per-sample losses and d(mean loss)/d log_q in float64; format in the script's doc.\n")
    for name, log_q, prior in make_cases():
        m, l = log_q.shape
        assert torch.allclose(prior.sum(1), torch.ones(m, dtype=torch.float64), atol=1e-15)
        out.write("case %s %d %d\n" % (name, m, l))
        out.write("log_q\n")
        for row in log_q:
            out.write(fmt_row(row) + "\n")
        out.write("prior\n")
        for row in prior:
            out.write(fmt_row(row) + "\n")
        for kind in LOSSES:
            v, g = value_and_grad(EXACT[kind], log_q, prior)
            v2, g2 = value_and_grad(lambda x, p: fig2(kind, x, p), log_q, prior)
            if not (torch.isfinite(v).all() and torch.isfinite(g).all()):
                raise SystemExit("non-finite reference for %s/%s" % (name, kind))
            if not (torch.allclose(v, v2, rtol=1e-12, atol=1e-12)
                    and torch.allclose(g, g2, rtol=1e-10, atol=1e-13)):
                raise SystemExit("exact and Fig. 2 references disagree for %s/%s: %g %g" % (
                    name, kind, (v - v2).abs().max(), (g - g2).abs().max()))
            out.write("loss %s\n" % kind)
            out.write("value\n" + fmt_row(v) + "\n")
            out.write("grad\n")
            for row in g:
                out.write(fmt_row(row) + "\n")
        out.write("end\n")
    return out.getvalue()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "tests", "data", "loss_fixtures.txt")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(default_out))
    ap.add_argument("--check", action="store_true", help="compare with --out instead of writing")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    text = render()
    if args.check:
        with open(args.out) as f:
            same = f.read() == text
        print("%s: %s" % (args.out, "up to date" if same else "DIFFERS"))
        return 0 if same else 1
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.out)
    print("wrote %s (%d bytes)" % (args.out, len(text)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
