//! `flate2-probe RAW PLAIN`: RAW is a raw deflate stream, PLAIN what it inflates
//! to (`gzip-census --extract` writes both). For each level and write pattern it
//! prints how many leading bytes of RAW flate2's `write::DeflateEncoder` (zlib-rs
//! backend) reproduces, and MATCH when all of them.
//!
//! The write pattern matters: zlib-rs at levels 1-6 decides differently when its
//! input arrives in other pieces, and flate2's writer also cuts the input where
//! its 32 KiB output buffer fills. `std::io::copy` from a file writes 8 KiB
//! pieces; `write_all` of a buffer writes it whole. Rust writers call `flush()`
//! (a sync flush, `00 00 ff ff`) before `finish()` more often than not.
use flate2::{write::DeflateEncoder, Compression};
use std::io::Write;

fn encode(plain: &[u8], level: u32, piece: usize, flush: bool) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(level));
    for chunk in plain.chunks(piece.max(1)) {
        enc.write_all(chunk).expect("writing to a Vec cannot fail");
    }
    if flush {
        enc.flush().expect("writing to a Vec cannot fail");
    }
    enc.finish().expect("writing to a Vec cannot fail")
}

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, raw, plain] = args.as_slice() else {
        eprintln!("usage: flate2-probe RAW PLAIN");
        std::process::exit(2);
    };
    let raw = std::fs::read(raw).expect("read RAW");
    let plain = std::fs::read(plain).expect("read PLAIN");
    for level in [6, 9, 1, 2, 3, 4, 5, 7, 8] {
        for piece in [8192, plain.len()] {
            for flush in [true, false] {
                let out = encode(&plain, level, piece, flush);
                let verdict = if out == raw { "MATCH" } else { "" };
                println!(
                    "L{level} pieces {piece} flush {flush}: {} of {} bytes (len {}) {verdict}",
                    common_prefix(&out, &raw),
                    raw.len(),
                    out.len()
                );
            }
        }
    }
}
