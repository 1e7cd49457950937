#!/usr/bin/env python3
"""Rebuilds a Lockstep .npz export in PyTorch and checks its predictions.

    python3 torch-check.py MODEL.npz INPUTS.npy EXPECTED.npy [MODEL2.npz INPUTS2.npy EXPECTED2.npy ...]

INPUTS.npy holds raw inputs [N, frames, channels] (float32); EXPECTED.npy the class
probabilities [N, classes] Lockstep predicted for them. The script loads the .npz with numpy
(allow_pickle=False), standardises the inputs with standardize_mean / standardize_std, builds the
network of spec_json in torch.nn with the exported weights, and prints one JSON line per model:
{"model": ..., "maxAbsDiff": ..., "ok": ...}. Exit status 0 when every model is within --tol
(default 1e-5), 1 otherwise.

It doubles as the reference for reading the export elsewhere. Lockstep is channels-last
([batch, time, channels]); torch's Conv1d wants [batch, channels, time], so:
  - a Conv1D kernel [kernelSize, in, filters] becomes Conv1d.weight [filters, in, kernelSize]
    (transpose(2, 1, 0)); a Dense kernel [in, units] becomes Linear.weight [units, in] (.T);
  - 'same' padding follows TensorFlow: ceil(L / stride) outputs, the padding split evenly with
    the odd step on the right (torch's padding= is symmetric, so the input is padded explicitly);
    max pooling pads with -inf, average pooling divides by the number of real (unpadded) steps;
  - TimeSum is a sum over time, GlobalAveragePooling1D a mean over time;
  - BatchNormalization is BatchNorm1d in eval mode (channels are torch's axis 1 either way);
  - Flatten flattens [time, channels] row-major (time-major): transpose back to
    [batch, time, channels] before flattening, as torch's flatten of [channels, time] differs;
  - the last Dense is followed by a softmax.
"""
import argparse
import json
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def window(length, span, stride, padding):
    """(output length, left pad, right pad) of a sliding window, TensorFlow's rules."""
    if padding == 'valid':
        return (length - span) // stride + 1, 0, 0
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return out, total // 2, total - total // 2


ACTIVATIONS = {'linear': nn.Identity, 'relu': nn.ReLU, 'sigmoid': nn.Sigmoid, 'tanh': nn.Tanh}


class Conv1dTF(nn.Module):
    """Conv1D on [B, C, T] with TensorFlow's 'same' / 'valid' padding."""

    def __init__(self, cfg, in_channels, length, kernel, bias):
        super().__init__()
        k, s, d = cfg['kernelSize'], cfg['strides'], cfg['dilationRate']
        self.out_length, left, right = window(length, (k - 1) * d + 1, s, cfg['padding'])
        self.pad = (left, right)
        self.conv = nn.Conv1d(in_channels, cfg['filters'], k, stride=s, dilation=d, bias=bias is not None)
        with torch.no_grad():
            self.conv.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.transpose(2, 1, 0))))
            if bias is not None:
                self.conv.bias.copy_(torch.from_numpy(bias))

    def forward(self, x):
        return self.conv(F.pad(x, self.pad))


class Pool1dTF(nn.Module):
    """Max or average pooling on [B, C, T] with TensorFlow's padding (averages over real steps only)."""

    def __init__(self, cfg, length, kind):
        super().__init__()
        self.kind, self.size, self.stride = kind, cfg['poolSize'], cfg['strides']
        self.out_length, left, right = window(length, self.size, self.stride, cfg['padding'])
        self.pad = (left, right)

    def forward(self, x):
        if self.kind == 'max':
            return F.max_pool1d(F.pad(x, self.pad, value=float('-inf')), self.size, self.stride)
        total = F.avg_pool1d(F.pad(x, self.pad), self.size, self.stride)
        real = F.avg_pool1d(F.pad(torch.ones_like(x[:1, :1]), self.pad), self.size, self.stride)
        return total / real


class OverTime(nn.Module):
    def __init__(self, mean):
        super().__init__()
        self.mean = mean

    def forward(self, x):  # [B, C, T] -> [B, C]
        return x.mean(dim=2) if self.mean else x.sum(dim=2)


class BatchNormChannelsLast(nn.Module):
    """BatchNormalization at inference over channels: [B, C, T] (torch's BatchNorm1d axis) or a flat [B, F]."""

    def __init__(self, z, name, epsilon):
        super().__init__()
        gamma = z[name + '.gamma']
        self.bn = nn.BatchNorm1d(gamma.shape[0], eps=epsilon)
        with torch.no_grad():
            self.bn.weight.copy_(torch.from_numpy(gamma))
            self.bn.bias.copy_(torch.from_numpy(z[name + '.beta']))
            self.bn.running_mean.copy_(torch.from_numpy(z[name + '.moving_mean']))
            self.bn.running_var.copy_(torch.from_numpy(z[name + '.moving_variance']))

    def forward(self, x):
        return self.bn(x)


class FlattenChannelsLast(nn.Module):
    def forward(self, x):  # [B, C, T] -> [B, T*C] in Lockstep's (time-major) order
        return x.transpose(1, 2).reshape(x.shape[0], -1) if x.dim() == 3 else x


def build(z):
    """The torch network of an export, and its standardisation."""
    spec = json.loads(str(z['spec_json']))
    length, channels = spec['input']
    flat = None  # the size of a flat activation, once there is one
    modules = []
    for layer in spec['layers']:
        t, name = layer['type'], layer['name']
        kernel = z[name + '.kernel'] if name + '.kernel' in z.files else None
        bias = z[name + '.bias'] if name + '.bias' in z.files else None
        if t == 'Conv1D':
            conv = Conv1dTF(layer, channels, length, kernel, bias)
            modules += [conv, ACTIVATIONS[layer['activation']]()]
            length, channels = conv.out_length, layer['filters']
        elif t in ('MaxPooling1D', 'AveragePooling1D'):
            pool = Pool1dTF(layer, length, 'max' if t == 'MaxPooling1D' else 'avg')
            modules.append(pool)
            length = pool.out_length
        elif t in ('TimeSum', 'GlobalAveragePooling1D'):
            modules.append(OverTime(mean=t == 'GlobalAveragePooling1D'))
            flat = channels
        elif t == 'Flatten':
            modules.append(FlattenChannelsLast())
            flat = flat if flat is not None else length * channels
        elif t == 'Dense':
            linear = nn.Linear(kernel.shape[0], layer['units'], bias=bias is not None)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(kernel.T)))
                if bias is not None:
                    linear.bias.copy_(torch.from_numpy(bias))
            act = layer['activation']
            modules += [linear, nn.Softmax(dim=1) if act == 'softmax' else ACTIVATIONS[act]()]
            flat = layer['units']
        elif t == 'Dropout':
            modules.append(nn.Dropout(layer['rate']))
        elif t == 'Activation':
            modules.append(ACTIVATIONS[layer['activation']]())
        elif t == 'BatchNormalization':
            modules.append(BatchNormChannelsLast(z, name, layer['epsilon']))
        else:
            raise ValueError('unknown layer type ' + t)
    net = nn.Sequential(*modules).eval()
    return net, z['standardize_mean'], z['standardize_std'], [str(c) for c in z['classes']]


def predict(npz_path, x):
    with np.load(npz_path, allow_pickle=False) as z:
        net, mean, std, classes = build(z)
    xs = (x.astype(np.float32) - mean) / std  # per channel, channels last
    with torch.no_grad():
        return net(torch.from_numpy(np.ascontiguousarray(xs.transpose(0, 2, 1)))).numpy(), classes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('files', nargs='+', help='MODEL.npz INPUTS.npy EXPECTED.npy, repeated')
    ap.add_argument('--tol', type=float, default=1e-5)
    args = ap.parse_args()
    if len(args.files) % 3:
        ap.error('expected triples MODEL.npz INPUTS.npy EXPECTED.npy')
    torch.set_num_threads(1)
    ok = True
    for i in range(0, len(args.files), 3):
        model, inputs, expected = args.files[i:i + 3]
        probs, classes = predict(model, np.load(inputs, allow_pickle=False))
        want = np.load(expected, allow_pickle=False)
        diff = float(np.max(np.abs(probs - want))) if probs.shape == want.shape else float('inf')
        good = diff <= args.tol
        ok = ok and good
        print(json.dumps({'model': model, 'classes': classes, 'shape': list(probs.shape), 'maxAbsDiff': diff, 'ok': good}))
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
