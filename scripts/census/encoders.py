"""Encoder settings to try, and the search that finds one reproducing a stream.

A candidate either streams (madler zlib: its output does not depend on how the
input is split, so a wrong setting is rejected at its first differing byte) or
runs one-shot (zlib-ng, libdeflate, ISA-L: output depends on the input split, so
the whole input goes in one call, as `compress(data)` would do it).
"""

import hashlib
import shutil
import subprocess
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

    def __init__(self, label, make=None, oneshot=None, sync_first=False):
        self.label = label
        self._make = make  # () -> object with compress()/flush(), chunk-independent
        self._oneshot = oneshot  # bytes -> bytes
        # The writer flushed (Z_SYNC_FLUSH: empty stored block 00 00 ff ff) before
        # finishing, as Rust's `Write::flush` on a flate2 encoder does.
        self._sync_first = sync_first

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
        tail = (enc.flush(zlib.Z_SYNC_FLUSH) if self._sync_first else b"") + enc.flush()
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


def zlib_candidate(level, mem, wbits, strategy, sync_first=False):
    name = "huffman" if strategy == "huffman" else "rle" if strategy == "rle" else f"L{level}"
    suffix = "" if strategy in ("default", "huffman", "rle") else " " + strategy
    label = f"zlib {name} m{mem} w{wbits}{suffix}" + (" +sync" if sync_first else "")
    return Candidate(label, make=lambda: zlib.compressobj(level, zlib.DEFLATED, -wbits, mem,
                                                          STRATEGIES[strategy]),
                     sync_first=sync_first)


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
    out += [zlib_candidate(lv, 8, 15, "default", sync_first=True) for lv in ZLIB_LEVELS]
    return out


def zlib_rare():
    """Smaller memLevel or window: embedded and memory-starved writers."""
    out = [zlib_candidate(lv, mem, 15, "default") for mem in range(1, 8) for lv in ZLIB_LEVELS]
    out += [zlib_candidate(lv, mem, wb, "default")
            for wb in range(14, 8, -1) for mem in (8, 9) for lv in ZLIB_LEVELS]
    return out


def gnu_gzip_candidates():
    """GNU gzip's own deflate (the ancestor of zlib's): it ends blocks by its own
    estimate, so past the first block it differs from zlib at the same level."""
    gzip = shutil.which("gzip")
    if gzip is None:
        return []

    def oneshot(level):
        def run(data):
            out = subprocess.run([gzip, "-c", "-n", f"-{level}"], input=data,
                                 stdout=subprocess.PIPE, check=True).stdout
            return out[10:-8]  # -n: a bare 10-byte header; trailer CRC32 + ISIZE
        return run

    return [Candidate(f"gnu-gzip L{lv}", oneshot=oneshot(lv)) for lv in (6, 9, 1, 2, 3, 4, 5, 7, 8)]


NODE_DEFLATE = """
const zlib = require('zlib');
const [level, memLevel] = process.argv.slice(1).map(Number);
const chunks = [];
process.stdin.on('data', c => chunks.push(c));
process.stdin.on('end', () =>
  process.stdout.write(zlib.deflateRawSync(Buffer.concat(chunks), { level, memLevel })));
"""


def node_candidates():
    """Node.js's zlib (Chromium's fork of zlib, SIMD hashing): what npm, pnpm and
    yarn write .tgz with.  Its matches differ from madler zlib's at every level."""
    node = shutil.which("node")
    if node is None:
        return []

    def oneshot(level, mem):
        def run(data):
            return subprocess.run([node, "-e", NODE_DEFLATE, str(level), str(mem)], input=data,
                                  stdout=subprocess.PIPE, check=True).stdout
        return run

    return [Candidate(f"node-zlib L{lv} m{mem}", oneshot=oneshot(lv, mem))
            for mem in (8, 9) for lv in (9, 6, 1, 2, 3, 4, 5, 7, 8)]


def zlib_ng_candidates():
    try:
        from zlib_ng import zlib_ng
    except ImportError:
        return []

    def oneshot(level, mem, sync_first):
        def run(data):
            enc = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -15, mem, 0)
            out = enc.compress(data)
            if sync_first:
                out += enc.flush(zlib_ng.Z_SYNC_FLUSH)
            return out + enc.flush()
        return run

    out = [Candidate(f"zlib-ng L{lv} m{mem}", oneshot=oneshot(lv, mem, False))
           for mem in (8, 9) for lv in range(1, 10)]
    return out + [Candidate(f"zlib-ng L{lv} m8 +sync", oneshot=oneshot(lv, 8, True))
                  for lv in range(1, 10)]


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
    return (zlib_common() + gnu_gzip_candidates() + node_candidates() + zlib_ng_candidates() + libdeflate_candidates() + isal_candidates()
            + zlib_rare())


def available_encoders():
    names = [f"zlib {zlib.ZLIB_RUNTIME_VERSION}"]
    if shutil.which("node"):
        names.append("node-zlib " + subprocess.run(
            ["node", "-p", "process.versions.zlib"], stdout=subprocess.PIPE, text=True).stdout.strip())
    if shutil.which("gzip"):
        names.append(subprocess.run(["gzip", "--version"], stdout=subprocess.PIPE,
                                    text=True).stdout.splitlines()[0])
    for mod, name in (("zlib_ng", "zlib-ng"), ("deflate", "libdeflate"), ("isal", "isal")):
        try:
            m = __import__(mod)
            names.append(f"{name} ({mod} {getattr(m, '__version__', '?')})")
        except ImportError:
            names.append(f"{name}: not installed")
    return names


def ranking(raw, data, top=3):
    """The `top` settings that reproduce the longest prefix of `raw`: (agreement, label)."""
    scored = [(cand.agreement(raw, data), cand.label) for cand in all_candidates()]
    return sorted(scored, reverse=True)[:top]


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
