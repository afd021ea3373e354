"""PyTorch reference for `dlab bench train`: time optimisation steps of the
β-VAE of src/core/models/architectures.ts (disentanglement_lib's networks)
on the CPU, with the same loss (Bernoulli reconstruction summed over pixels,
KL to N(0, I), batch means) and Adam.

usage: python3 torch_vae_step.py [--arch conv|fc] [--threads N] [--steps N]
                                 [--warmup N] [--batch B] [--latent Z]
                                 [--channels C] [--beta B]
Prints one line: `torch ARCH threads=N batch=B latent=Z ms/step=… steps/s=…`.
Needs PyTorch (Debian: apt-get install python3-torch).
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_nets(z, c):
    # encoder: conv 32 k4 s2, conv 32 k4 s2, conv 64 k2 s2, conv 64 k2 s2 ('same', ReLU), dense 256, heads
    enc = nn.Sequential(
        nn.Conv2d(c, 32, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
        nn.Conv2d(32, 64, 2, 2), nn.ReLU(),
        nn.Conv2d(64, 64, 2, 2), nn.ReLU(),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 256), nn.ReLU(),
        nn.Linear(256, 2 * z),
    )
    # decoder: dense 256, dense 1024, 4x4x64, deconv 64, 32, 32 (k4 s2 'same', ReLU), deconv C (logits)
    dec = nn.Sequential(
        nn.Linear(z, 256), nn.ReLU(),
        nn.Linear(256, 1024), nn.ReLU(),
        nn.Unflatten(1, (64, 4, 4)),
        nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, c, 4, 2, 1),
    )
    return enc, dec


def fc_nets(z, c):
    d = 64 * 64 * c
    enc = nn.Sequential(nn.Flatten(), nn.Linear(d, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 2 * z))
    dec = nn.Sequential(
        nn.Linear(z, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(), nn.Linear(1200, 1200), nn.Tanh(),
        nn.Linear(1200, d), nn.Unflatten(1, (c, 64, 64)),
    )
    return enc, dec


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=["conv", "fc"], default="conv")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--latent", type=int, default=10)
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--beta", type=float, default=4.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    enc, dec = (conv_nets if a.arch == "conv" else fc_nets)(a.latent, a.channels)
    # binary images with ~10 % of pixels on, like dSprites
    x = (torch.rand(a.batch, a.channels, 64, 64) > 0.9).float()
    opt = torch.optim.Adam(list(enc.parameters()) + list(dec.parameters()), lr=1e-4, betas=(0.9, 0.999), eps=1e-8)

    def step():
        h = enc(x)
        mu, lv = h[:, : a.latent], h[:, a.latent:]
        zz = mu + torch.randn_like(mu) * torch.exp(lv / 2)
        logits = dec(zz)
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / a.batch
        kl = 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum() / a.batch
        loss = rec + a.beta * kl
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t) / a.steps
    print(f"torch {a.arch} threads={a.threads} batch={a.batch} latent={a.latent} ms/step={dt * 1000:.1f} steps/s={1 / dt:.2f}")


if __name__ == "__main__":
    main()
