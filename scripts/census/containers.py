"""The raw deflate streams inside gzip files and zip archives, with their plain data.

Yields one `Stream` per gzip member and per zip member; a zip member that is
itself a gzip file also yields the gzip streams nested in it (botocore ships its
service models as .json.gz inside the wheel).
"""

import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Optional

GZIP_MAGIC = b"\x1f\x8b\x08"
FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16


@dataclass
class Stream:
    """One deflate stream (`raw` is None for zip members that are not deflated)."""

    kind: str  # "gzip", "zip member", "gzip in zip"
    container: str  # what held it: "gzip member", "zip deflated", "zip stored", ...
    raw: Optional[bytes]
    data: Optional[bytes]
    header: Optional[str] = None  # gzip header fields, summarised


def gzip_header(buf, pos):
    """(summary, offset of the deflate data) of the gzip header at `pos`."""
    flags, mtime, xfl, os_ = buf[pos + 3], *struct.unpack_from("<I", buf, pos + 4), buf[pos + 8], buf[pos + 9]
    off = pos + 10
    fields = [f"mtime={'0' if mtime == 0 else 'set'}", f"xfl={xfl}", f"os={os_}"]
    if flags & FEXTRA:
        (xlen,) = struct.unpack_from("<H", buf, off)
        off += 2 + xlen
        fields.append("extra")
    if flags & FNAME:
        off = buf.index(b"\0", off) + 1
        fields.append("fname")
    if flags & FCOMMENT:
        off = buf.index(b"\0", off) + 1
        fields.append("comment")
    if flags & FHCRC:
        off += 2
        fields.append("hcrc")
    if flags & FTEXT:
        fields.append("ftext")
    return " ".join(fields), off


def gzip_members(buf, kind="gzip"):
    """Every member of a (possibly multi-member) gzip file; stops at trailing bytes."""
    pos = 0
    while buf.startswith(GZIP_MAGIC, pos):
        header, off = gzip_header(buf, pos)
        d = zlib.decompressobj(-15)
        data = d.decompress(buf[off:]) + d.flush()
        if not d.eof:
            raise ValueError(f"truncated gzip member at {pos}")
        end = len(buf) - len(d.unused_data)
        yield Stream(kind, "gzip member", bytes(buf[off:end]), data, header)
        pos = end + 8  # CRC32 + ISIZE
    if pos < len(buf):
        yield Stream(kind, f"{len(buf) - pos} trailing bytes", None, None)


def zip_members(path, buf):
    """Every member of a zip archive, and the gzip files nested in its members."""
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            raw, data = member_bytes(buf, info)
            method = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
            container = "zip " + method.get(info.compress_type, f"method {info.compress_type}")
            if info.flag_bits & 0x08:
                container += " +descriptor"
            if info.compress_type == zipfile.ZIP_DEFLATED:
                yield Stream("zip member", container, raw, data)
            else:
                yield Stream("zip member", container, None, None)
            if data is not None and data.startswith(GZIP_MAGIC):
                yield from gzip_members(data, "gzip in zip")


def member_bytes(buf, info):
    """(stored bytes, plain bytes) of one zip member, read through its local header."""
    pos = info.header_offset
    if buf[pos:pos + 4] != b"PK\x03\x04":
        raise ValueError(f"{info.filename}: no local header at {pos}")
    name_len, extra_len = struct.unpack_from("<HH", buf, pos + 26)
    start = pos + 30 + name_len + extra_len
    raw = bytes(buf[start:start + info.compress_size])
    if info.compress_type == zipfile.ZIP_DEFLATED:
        return raw, zlib.decompress(raw, -15)
    if info.compress_type == zipfile.ZIP_STORED:
        return raw, raw
    return raw, None


def deflate_streams(path):
    """All streams of one corpus file, by its content (gzip or zip magic)."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf.startswith(GZIP_MAGIC):
        return list(gzip_members(buf))
    if buf.startswith(b"PK\x03\x04"):
        return list(zip_members(path, buf))
    return []
