#!/usr/bin/python3
"""PyTorch peer for bench/run.ts: the same train split, the same network spec, SGD, one thread.

Usage: /usr/bin/python3 bench/torch_peer.py --data DIR --specs SPECS.json
Speaks the engine-worker line protocol on stdin/stdout (one JSON object a line). If torch
cannot be imported it prints {"missing": "torch", ...} and exits 0.
"""
import argparse
import json
import math
import os
import resource
import sys
import time

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")


def reply(obj):
    obj["maxRssMb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


try:
    import numpy as np
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001 - any import failure means "missing"
    reply({"missing": "torch", "reason": f"{type(e).__name__}: {e}"})
    sys.exit(0)

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass


def same_pad(length, span, stride):
    """tfjs/TensorFlow 'same': ceil(L/stride) outputs, the odd padding step on the right."""
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


ACT = {"linear": lambda x: x, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": F.relu}


class Net(nn.Module):
    """Keeps activations channels-first [B, C, T] like nn.Conv1d wants; Flatten goes back to channels-last order."""

    def __init__(self, spec):
        super().__init__()
        self.steps = []
        self.mods = nn.ModuleList()
        length, channels = spec["input"]
        flat = None
        layers = spec["layers"]
        for i, l in enumerate(layers):
            t = l["type"]
            if t == "Conv1D":
                k, s = l["kernelSize"], l.get("strides", 1)
                d = l.get("dilationRate", 1)
                span = (k - 1) * d + 1
                pad = same_pad(length, span, s) if l.get("padding", "valid") == "same" else (0, 0)
                m = nn.Conv1d(channels, l["filters"], k, stride=s, dilation=d, bias=l.get("useBias", True))
                self.mods.append(m)
                self.steps.append(("conv", m, pad, ACT[l.get("activation", "linear")]))
                length = (length + pad[0] + pad[1] - span) // s + 1
                channels = l["filters"]
            elif t in ("MaxPooling1D", "AveragePooling1D"):
                p = l.get("poolSize", 2)
                s = l.get("strides", p)
                pad = same_pad(length, p, s) if l.get("padding", "valid") == "same" else (0, 0)
                self.steps.append(("maxpool" if t == "MaxPooling1D" else "avgpool", p, s, pad))
                length = (length + pad[0] + pad[1] - p) // s + 1
            elif t == "Flatten":
                self.steps.append(("flatten",))
                flat = length * channels
            elif t == "TimeSum":
                self.steps.append(("timesum",))
                flat = channels
            elif t == "GlobalAveragePooling1D":
                self.steps.append(("gap",))
                flat = channels
            elif t == "Dropout":
                m = nn.Dropout(l["rate"])
                self.mods.append(m)
                self.steps.append(("dropout", m))
            elif t == "Activation":
                self.steps.append(("act", ACT[l["activation"]]))
            elif t == "BatchNormalization":
                # Keras momentum m keeps m of the moving statistic; torch's momentum is the new value's share.
                m = nn.BatchNorm1d(channels if flat is None else flat, eps=l.get("epsilon", 1e-3), momentum=1 - l.get("momentum", 0.99))
                self.mods.append(m)
                self.steps.append(("bn", m))
            elif t == "Dense":
                m = nn.Linear(flat, l["units"], bias=l.get("useBias", True))
                self.mods.append(m)
                act = l.get("activation", "linear")
                # The last Dense's softmax is fused into the loss (log_softmax + nll).
                self.steps.append(("dense", m, (lambda x: x) if act == "softmax" else ACT[act]))
                flat = l["units"]
            else:
                raise ValueError(f"layer {i + 1}: unsupported type {t}")

    def forward(self, x):  # x: [B, T, C]
        x = x.transpose(1, 2)
        for st in self.steps:
            kind = st[0]
            if kind == "conv":
                _, m, pad, act = st
                if pad != (0, 0):
                    x = F.pad(x, pad)
                x = act(m(x))
            elif kind == "maxpool":
                _, p, s, pad = st
                if pad != (0, 0):
                    x = F.pad(x, pad, value=float("-inf"))
                x = F.max_pool1d(x, p, s)
            elif kind == "avgpool":
                _, p, s, pad = st
                if pad != (0, 0):
                    x = F.pad(x, pad)
                x = F.avg_pool1d(x, p, s)
            elif kind == "flatten":
                x = x.transpose(1, 2).reshape(x.shape[0], -1) if x.dim() == 3 else x
            elif kind == "timesum":
                x = x.sum(dim=2)
            elif kind == "gap":
                x = x.mean(dim=2)
            elif kind == "dropout":
                x = st[1](x)
            elif kind == "act":
                x = st[1](x)
            elif kind == "bn":
                x = st[1](x)
            elif kind == "dense":
                x = st[2](st[1](x))
        return x


class Slot:
    def __init__(self, spec, x, y, batch, lr, seed):
        torch.manual_seed(seed)
        self.net = Net(spec)
        self.net.train()
        self.opt = torch.optim.SGD(self.net.parameters(), lr=lr)
        self.x, self.y, self.batch = x, y, batch
        self.n = x.shape[0]
        self.steps_per_epoch = math.ceil(self.n / batch)
        self.gen = torch.Generator().manual_seed(seed)
        self.order = None
        self.pos = 0
        self.warm_ms = float("nan")

    def train_step(self):
        """Shuffle at each epoch start, gather the batch, forward, fused log_softmax+nll, backward, SGD."""
        if self.pos == 0:
            self.order = torch.randperm(self.n, generator=self.gen)
        idx = self.order[self.pos:self.pos + self.batch]
        xb, yb = self.x.index_select(0, idx), self.y.index_select(0, idx)
        self.opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(self.net(xb), yb)
        loss.backward()
        self.opt.step()
        self.pos += idx.shape[0]
        done = self.pos >= self.n
        if done:
            self.pos = 0
        return float(loss), done


def blas_in_use():
    """The BLAS this process really runs (the runner classifies it): the BLAS/LAPACK libraries mapped after
    a matrix product (Debian's torch links whichever libblas.so.3 the alternatives system points at), and
    the BLAS torch was built for (BLAS_INFO in torch.__config__: 'mkl' where it is linked in statically)."""
    a = torch.ones(64, 64)
    (a @ a).sum().item()
    libraries = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                name = os.path.basename(path).lower()
                if path.startswith("/") and ("blas" in name or "lapack" in name or "mkl" in name):
                    libraries.add(os.path.realpath(path))
    except OSError:
        pass
    info = [part.split("=", 1)[1] for part in torch.__config__.show().replace(",", " ").split() if part.startswith("BLAS_INFO=")]
    return {"blasLibraries": sorted(libraries), "blasInfo": info[0] if info else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--specs", required=True, help="JSON object: model name -> spec")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    n, T, C = meta["n"], meta["frames"], meta["channels"]
    x = torch.from_numpy(np.fromfile(os.path.join(a.data, "x.bin"), dtype=np.float32).reshape(n, T, C).copy())
    y = torch.from_numpy(np.fromfile(os.path.join(a.data, "y.bin"), dtype=np.int32).astype(np.int64))
    specs = json.load(open(a.specs))
    slots = {}

    def slot(model, batch, warmup):
        key = (model, batch)
        if key not in slots:
            s = Slot(specs[model], x, y, batch, a.lr, a.seed)
            if warmup > 0:
                s.train_step()  # the first step pays for one-time setup; not in the estimate
            t0 = time.perf_counter()
            for _ in range(warmup - 1):
                s.train_step()
            if warmup > 1:
                s.warm_ms = (time.perf_counter() - t0) * 1000 / (warmup - 1)
            slots[key] = s
        return slots[key]

    reply({"ready": True, "engine": "torch", "torch": torch.__version__, "threads": torch.get_num_threads(), **blas_in_use()})
    for line in sys.stdin:
        c = json.loads(line)
        try:
            if c["cmd"] == "exit":
                reply({"exit": True})
                return
            s = slot(c["model"], c["batch"], c["warmupSteps"])
            if c["cmd"] == "epoch":
                est = s.warm_ms * s.steps_per_epoch
                if not math.isnan(est) and est > c["capMs"]:
                    t0, cpu0 = time.perf_counter(), time.process_time()
                    for _ in range(c["capSteps"]):
                        s.train_step()
                    per_epoch = s.steps_per_epoch / c["capSteps"]
                    reply({"ms": (time.perf_counter() - t0) * 1000 * per_epoch, "cpuMs": (time.process_time() - cpu0) * 1000 * per_epoch,
                           "stepsPerEpoch": s.steps_per_epoch, "extrapolatedFrom": c["capSteps"]})
                    continue
                while not s.train_step()[1]:
                    pass
                t0, cpu0 = time.perf_counter(), time.process_time()
                steps = 0
                while True:
                    steps += 1
                    if s.train_step()[1]:
                        break
                reply({"ms": (time.perf_counter() - t0) * 1000, "cpuMs": (time.process_time() - cpu0) * 1000, "stepsPerEpoch": steps, "extrapolatedFrom": None})
            else:
                k = c["steps"]
                if not math.isnan(s.warm_ms):
                    k = max(3, min(k, int(c["budgetMs"] // max(s.warm_ms, 1e-6))))
                t0 = time.perf_counter()
                for _ in range(k):
                    s.train_step()
                reply({"msPerStep": (time.perf_counter() - t0) * 1000 / k, "steps": k})
        except Exception as e:  # noqa: BLE001 - reported to the runner, which keeps going
            reply({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
