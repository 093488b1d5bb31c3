"""Encoder settings to try, and the search that finds one reproducing a stream.

A candidate either streams (madler zlib: its output does not depend on how the
input is split, so a wrong setting is rejected at its first differing byte) or
runs one-shot (zlib-ng, libdeflate, ISA-L: output depends on the input split, so
the whole input goes in one call, as `compress(data)` would do it).
"""

import hashlib
import zlib

CHUNK = 64 * 1024
PREFIX = 1 << 20  # one-shot encoders: input prefix for the cheap first check
PREFIX_CMP = 64  # ... and how many leading output bytes must agree
STRATEGIES = {
    "default": zlib.Z_DEFAULT_STRATEGY,
    "filtered": zlib.Z_FILTERED,
    "huffman": zlib.Z_HUFFMAN_ONLY,
    "rle": zlib.Z_RLE,
    "fixed": zlib.Z_FIXED,
}
ZLIB_LEVELS = (6, 9, 1, 2, 3, 4, 5, 7, 8)


class Candidate:
    """One encoder setting, streaming (`make`) or one-shot (`oneshot`)."""

    def __init__(self, label, make=None, oneshot=None):
        self.label = label
        self._make = make  # () -> object with compress()/flush(), chunk-independent
        self._oneshot = oneshot  # bytes -> bytes

    def agreement(self, raw, data):
        """How many leading bytes of `raw` this setting reproduces (len(raw)+1: all, same end)."""
        if self._make is not None:
            return self._stream_agreement(raw, data)
        if len(data) > PREFIX:
            head = self._oneshot(data[:PREFIX])[:PREFIX_CMP]
            if head != raw[:PREFIX_CMP]:
                return common_prefix(head, raw)
        return exact_or_common(self._oneshot(data), raw)

    def _stream_agreement(self, raw, data):
        enc = self._make()
        view = memoryview(raw)
        pos = 0
        for i in range(0, len(data), CHUNK):
            out = enc.compress(data[i:i + CHUNK])
            if out:
                if view[pos:pos + len(out)] != out:
                    return pos + common_prefix(out, raw[pos:pos + len(out)])
                pos += len(out)
        tail = enc.flush()
        if view[pos:] == tail:
            return len(raw) + 1
        return pos + common_prefix(tail, raw[pos:])


def common_prefix(a, b):
    """Length of the common prefix of two byte strings."""
    n = min(len(a), len(b))
    lo, hi = 0, n  # binary search on slice equality: C-speed compares
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def exact_or_common(out, raw):
    return len(raw) + 1 if out == raw else common_prefix(out, raw)


def zlib_candidate(level, mem, wbits, strategy):
    name = "huffman" if strategy == "huffman" else "rle" if strategy == "rle" else f"L{level}"
    suffix = "" if strategy in ("default", "huffman", "rle") else " " + strategy
    label = f"zlib {name} m{mem} w{wbits}{suffix}"
    return Candidate(label, make=lambda: zlib.compressobj(level, zlib.DEFLATED, -wbits, mem,
                                                          STRATEGIES[strategy]))


def zlib_common():
    """The settings tools actually pass: memLevel 8/9, full window, every strategy.

    Huffman-only and RLE ignore the level; fast levels (1-3) ignore `filtered`.
    """
    out = []
    for mem in (8, 9):
        out += [zlib_candidate(lv, mem, 15, "default") for lv in ZLIB_LEVELS]
        out += [zlib_candidate(lv, mem, 15, "filtered") for lv in ZLIB_LEVELS if lv >= 4]
        out += [zlib_candidate(6, mem, 15, s) for s in ("huffman", "rle")]
        out += [zlib_candidate(lv, mem, 15, "fixed") for lv in ZLIB_LEVELS]
    out.append(Candidate("zlib L0 (stored)", make=lambda: zlib.compressobj(0, zlib.DEFLATED, -15)))
    return out


def zlib_rare():
    """Smaller memLevel or window: embedded and memory-starved writers."""
    out = [zlib_candidate(lv, mem, 15, "default") for mem in range(1, 8) for lv in ZLIB_LEVELS]
    out += [zlib_candidate(lv, mem, wb, "default")
            for wb in range(14, 8, -1) for mem in (8, 9) for lv in ZLIB_LEVELS]
    return out


def zlib_ng_candidates():
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return []

    def oneshot(level, mem):
        def run(data):
            enc = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15, mem, 0)
            return enc.compress(data) + enc.flush()
        return run

    return [Candidate(f"zlib-ng L{lv} m{mem}", oneshot=oneshot(lv, mem))
            for mem in (8, 9) for lv in range(1, 10)]


def libdeflate_candidates():
    try:
        import deflate
    except ImportError:
        return []
    return [Candidate(f"libdeflate L{lv}", oneshot=lambda d, lv=lv: deflate.deflate_compress(d, lv))
            for lv in range(1, 13)]


def isal_candidates():
    try:
        from isal import isal_zlib
    except ImportError:
        return []

    def oneshot(level):
        def run(data):
            enc = isal_zlib.compressobj(level, isal_zlib.DEFLATED, -15)
            return enc.compress(data) + enc.flush()
        return run

    return [Candidate(f"isal L{lv}", oneshot=oneshot(lv)) for lv in range(0, 4)]


def all_candidates():
    """Common settings first, the rare zlib ones (most of the cost of a miss) last."""
    return (zlib_common() + zlib_ng_candidates() + libdeflate_candidates() + isal_candidates()
            + zlib_rare())


def available_encoders():
    names = [f"zlib {zlib.ZLIB_RUNTIME_VERSION}"]
    for mod, name in (("zlib_ng", "zlib-ng"), ("deflate", "libdeflate"), ("isal", "isal")):
        try:
            m = __import__(mod)
            names.append(f"{name} ({mod} {getattr(m, '__version__', '?')})")
        except ImportError:
            names.append(f"{name}: not installed")
    return names


NEAR_TAIL = 1024  # a miss this close to the end is reported as "... except tail"


class Identifier:
    """Tries candidates in move-to-front order: a family's writer is found first next time.

    Identical streams (unchanged members of consecutive versions) are looked up once.
    A stream no setting reproduces fully is labelled with the setting that
    reproduces it longest, when that one misses only the last NEAR_TAIL bytes.
    """

    def __init__(self):
        self.order = all_candidates()
        self.seen = {}

    def identify(self, raw, data):
        key = hashlib.sha1(raw).digest()
        if key not in self.seen:
            self.seen[key] = self._search(raw, data)
        return self.seen[key]

    def _search(self, raw, data):
        best, best_i = -1, None
        for i, cand in enumerate(self.order):
            agree = cand.agreement(raw, data)
            if agree > len(raw):
                if i:
                    self.order.insert(0, self.order.pop(i))
                return cand.label
            if agree > best:
                best, best_i = agree, i
        if best_i is not None and len(raw) - best <= NEAR_TAIL and best > len(raw) // 2:
            return self.order[best_i].label + " except tail"
        return "unidentified"
