#!/usr/bin/env python3
"""The front ends of shared/data/front-end.ts in NumPy, written from their formulas alone.

As a module: apply_front_end(x, front_end) with x [n, frames, channels] (log energies) and
front_end the JSON object a checkpoint, metadata.json or an .npz's front_end_json records.
As a script (the unit tests' reference): reads {"x": [...], "shape": [n, T, C], "frontEnd": {...}}
on stdin and prints {"x": [...]} (float64 arithmetic throughout).
"""
import json
import sys

import numpy as np


def apply_front_end(x, front_end):
    x = np.asarray(x, dtype=np.float64)
    if front_end['normalize'] == 'utteranceMean':
        return x - x.mean(axis=1, keepdims=True)
    if front_end['normalize'] == 'pcen':
        p = front_end['pcen']
        E = np.exp(x)
        M = np.empty_like(E)
        M[:, 0] = E[:, 0]
        for t in range(1, E.shape[1]):
            M[:, t] = (1 - p['smoothing']) * M[:, t - 1] + p['smoothing'] * E[:, t]
        return (E / (p['epsilon'] + M) ** p['alpha'] + p['delta']) ** p['root'] - p['delta'] ** p['root']
    return x


if __name__ == '__main__':
    q = json.load(sys.stdin)
    x = np.array(q['x'], dtype=np.float32).reshape(q['shape'])
    print(json.dumps({'x': apply_front_end(x, q['frontEnd']).ravel().tolist()}))
