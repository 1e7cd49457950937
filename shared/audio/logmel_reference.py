"""An independent log mel filterbank, to check shared/audio/logmel.ts against (logmel.test.ts).

usage: python3 logmel_reference.py FILE.wav '{"filters": 16, "lowHz": 0, ...}'
Prints the features as JSON: a list of frames, each a list of filter values.
Decodes with scipy.io.wavfile and computes with numpy's rfft, written from the formulas in
logmel.ts's doc comment, not from its code.
"""
import json
import sys

import numpy as np
from scipy.io import wavfile


def read_mono(path):
    rate, data = wavfile.read(path)
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128) / 128
    elif data.dtype == np.int16:
        x = data.astype(np.float64) / 2 ** 15
    elif data.dtype == np.int32:  # scipy returns 24-bit PCM left-aligned in int32
        x = data.astype(np.float64) / 2 ** 31
    else:
        x = data.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return rate, x


def log_mel(x, rate, s):
    win = int(np.floor(s['windowMs'] * rate / 1000 + 0.5))  # half up, not Python's half to even
    hop = int(np.floor(s['hopMs'] * rate / 1000 + 0.5))
    n_fft = 1 << int(np.ceil(np.log2(win)))
    frames = 1 + (len(x) - win) // hop if len(x) >= win else 0
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    inv = lambda m: 700 * (10 ** (m / 2595) - 1)
    edges = inv(np.linspace(mel(s['lowHz']), mel(s['highHz']), s['filters'] + 2))
    freqs = np.arange(n_fft // 2 + 1) * rate / n_fft
    bank = np.zeros((s['filters'], len(freqs)))
    for m in range(s['filters']):
        lo, c, hi = edges[m], edges[m + 1], edges[m + 2]
        bank[m] = np.maximum(0, np.minimum((freqs - lo) / (c - lo), (hi - freqs) / (hi - c)))
    idx = np.arange(win)[None, :] + hop * np.arange(frames)[:, None]
    spectrum = np.abs(np.fft.rfft(x[idx] * np.hamming(win), n=n_fft)) ** 2
    return np.log10(np.maximum(spectrum @ bank.T, s['floor']))


if __name__ == '__main__':
    rate, x = read_mono(sys.argv[1])
    print(json.dumps(log_mel(x, rate, json.loads(sys.argv[2])).tolist()))
