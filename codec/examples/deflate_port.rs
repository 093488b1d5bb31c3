//! Compresses a file with `deflate::zlib` and reports the speed; writes the raw deflate
//! stream to `OUT` when given. Used to compare with other zlibs (see docs/benchmarks.md).
//!
//! `cargo run --release --example deflate_port -- FILE LEVEL [zlib|chromium] [MEM_LEVEL]
//! [WINDOW_BITS] [STRATEGY 0-4] [OUT]`

use deltaglider_codec::deflate::zlib::{Flavor, Strategy, ZlibParams, compress};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let input = std::fs::read(arg(0, "")).expect("usage: deflate_port FILE LEVEL ...");
    let num = |i: usize, default: &str| arg(i, default).parse::<u8>().expect("a number");
    let flavor = match arg(2, "zlib").as_str() {
        "chromium" => Flavor::Chromium,
        _ => Flavor::Zlib,
    };
    let strategy = Strategy::from_zlib_value(num(5, "0")).expect("strategy 0..=4");
    let p = ZlibParams {
        level: num(1, "6"),
        window_bits: num(4, "15"),
        mem_level: num(3, "8"),
        strategy,
        flavor,
    };
    let mut out = Vec::with_capacity(input.len());
    let start = Instant::now();
    compress(&input, &p, &mut out);
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{} bytes -> {} bytes in {:.3} s: {:.1} MB/s",
        input.len(),
        out.len(),
        secs,
        input.len() as f64 / secs / 1e6
    );
    if let Some(path) = args.get(6) {
        std::fs::write(path, &out).expect("write OUT");
    }
}
