"""Self-test: streams written by known settings must be named after those settings.

Each case writes one multi-block stream (a few hundred KiB of varied text, so
that settings differ past the first block) and checks the label the identifier
gives it; encoders that are not installed are skipped, and said so.
"""

import random
import zlib

from encoders import Identifier, all_candidates


def sample(size=600_000, seed=7):
    """Text-like bytes with repeats at many distances (separates levels and block ends)."""
    rng = random.Random(seed)
    words = [bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
             for _ in range(3000)]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(rng.randint(3, 14))) + b".\n"
        if rng.random() < 0.05 and len(out) > 5000:
            start = rng.randint(0, len(out) - 4000)
            out += out[start:start + rng.randint(100, 3000)]
    return bytes(out[:size])


def zlib_stream(data, level, mem=8, wbits=15, strategy=zlib.Z_DEFAULT_STRATEGY, sync=False):
    enc = zlib.compressobj(level, zlib.DEFLATED, -wbits, mem, strategy)
    out = enc.compress(data)
    return out + (enc.flush(zlib.Z_SYNC_FLUSH) if sync else b"") + enc.flush()


def cases(data):
    """(expected label, raw stream) pairs, one per setting the census must tell apart."""
    yield "zlib L6 m8 w15", zlib_stream(data, 6)
    yield "zlib L9 m8 w15", zlib_stream(data, 9)
    yield "zlib L1 m8 w15", zlib_stream(data, 1)
    yield "zlib L6 m9 w15", zlib_stream(data, 6, mem=9)
    yield "zlib L9 m8 w15 filtered", zlib_stream(data, 9, strategy=zlib.Z_FILTERED)
    yield "zlib L6 m8 w15 +sync", zlib_stream(data, 6, sync=True)
    yield "zlib L6 m5 w15", zlib_stream(data, 6, mem=5)
    yield "zlib L6 m8 w12", zlib_stream(data, 6, wbits=12)
    raw = zlib_stream(data, 6)
    yield "zlib L6 m8 w15 except tail", raw[:-1] + bytes([raw[-1] ^ 0x40])
    middle = len(raw) // 3
    yield "unidentified", raw[:middle] + bytes([raw[middle] ^ 0x40]) + raw[middle + 1:]
    by_label = {c.label: c for c in all_candidates()}
    for label in ("gnu-gzip L9", "node-zlib L9 m8", "zlib-ng L4 m8", "libdeflate L12", "isal L2"):
        cand = by_label.get(label)
        if cand is None:
            print(f"skipped {label}: not installed")
            continue
        yield label, cand._oneshot(data)


def run():
    """Identify every case with a fresh identifier; return the failures."""
    data = sample()
    failures = []
    for expected, raw in cases(data):
        got = Identifier().identify(raw, data)
        print(f"{'ok  ' if got == expected else 'FAIL'} {expected}: {got}")
        if got != expected:
            failures.append((expected, got))
    return failures
