//! How a windowed delta of a large pair compares with `xdelta3 -9 -B`, and what it costs.
//!
//! ```text
//! cargo run --release -p deltaglider-codec --example windowed_eval -- \
//!     generate DIR SIZE_MIB          # DIR/v1.bin and DIR/v2.bin: v2 = v1 with 0.1 % edits
//! cargo run --release -p deltaglider-codec --example windowed_eval -- \
//!     REFERENCE TARGET [CHUNK_MIB MARGIN_MIB]
//! ```
//!
//! `generate` writes a pseudo-random but compressible reference (records of text and
//! numbers, as dumps and checkpoints hold) and a successor with inserts, deletes and
//! overwrites spread over it, 0.1 % of its bytes in all, streaming both to disk.
//!
//! The evaluation reads TARGET chunk by chunk and each chunk's reference segment from
//! REFERENCE by positioned reads (never either file whole), writes the delta to
//! `TARGET.windowed.vcdiff`, decodes it with `xdelta3 -d` and compares, and encodes the same
//! pair with `xdelta3 -e -9 -S none -B <reference size>` (at most xdelta3's 2 GiB source
//! window) for the size to beat. It prints sizes, times and this process's peak RSS.

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use deltaglider_codec::{EncodeOptions, WindowedEncoder};

type BoxResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [g, dir, size] if g == "generate" => generate(Path::new(dir), size.parse()?),
        [reference, target] => evaluate(reference, target, 8, 8),
        [reference, target, chunk, margin] => {
            evaluate(reference, target, chunk.parse()?, margin.parse()?)
        }
        _ => Err(
            "usage: windowed_eval generate DIR SIZE_MIB | REFERENCE TARGET [CHUNK_MIB MARGIN_MIB]"
                .into(),
        ),
    }
}

/// xorshift64*.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// One record: an id, a few numbers and a word or two, as a table row or tensor metadata.
fn record(rng: &mut Rng, out: &mut Vec<u8>) {
    const WORDS: [&str; 8] = [
        "alpha", "beta", "gamma", "delta", "weight", "bias", "norm", "proj",
    ];
    let v = rng.next();
    let word = WORDS[(v % 8) as usize];
    let _ = writeln!(
        out,
        "{}\t{word}\t{}\t{:.6}",
        v >> 40,
        (v >> 8) % 100_000,
        (v % 1_000_000) as f64 / 7.0
    );
}

fn generate(dir: &Path, size_mib: u64) -> BoxResult<()> {
    std::fs::create_dir_all(dir)?;
    let size = size_mib << 20;
    let mut v1 = BufWriter::new(File::create(dir.join("v1.bin"))?);
    let mut v2 = BufWriter::new(File::create(dir.join("v2.bin"))?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut edits = Rng(0xD1B5_4A32_D192_ED03);
    let mut written = 0u64;
    let mut block = Vec::with_capacity(1 << 20);
    // 0.1 % of the bytes edited: one edit of ~1 KiB per MiB on average.
    while written < size {
        block.clear();
        while block.len() < (1 << 20) {
            record(&mut rng, &mut block);
        }
        v1.write_all(&block)?;
        written += block.len() as u64;
        let at = (edits.next() % (block.len() as u64 - 2048)) as usize;
        let len = 256 + (edits.next() % 1536) as usize;
        match edits.next() % 3 {
            0 => {
                let mut inserted = Vec::new();
                while inserted.len() < len {
                    record(&mut edits, &mut inserted);
                }
                block.splice(at..at, inserted);
            }
            1 => {
                block.drain(at..at + len);
            }
            _ => {
                for b in &mut block[at..at + len] {
                    *b = b.wrapping_add(1);
                }
            }
        }
        v2.write_all(&block)?;
    }
    v1.flush()?;
    v2.flush()?;
    println!(
        "wrote {} and {}",
        dir.join("v1.bin").display(),
        dir.join("v2.bin").display()
    );
    Ok(())
}

fn evaluate(reference: &str, target: &str, chunk_mib: usize, margin_mib: u64) -> BoxResult<()> {
    let reference_file = File::open(reference)?;
    let reference_len = reference_file.metadata()?.len();
    let mut target_file = File::open(target)?;
    let target_len = target_file.metadata()?.len();
    let out_path = format!("{target}.windowed.vcdiff");
    let mut out = BufWriter::new(File::create(&out_path)?);

    let started = Instant::now();
    let mut encoder = WindowedEncoder::new(reference_len, &EncodeOptions::default().level(9))
        .chunk(chunk_mib << 20)
        .margin(margin_mib << 20);
    let mut chunk = vec![0u8; encoder.chunk_size()];
    let mut segment = Vec::new();
    let mut delta = Vec::new();
    let mut delta_len = 0u64;
    loop {
        let n = read_full(&mut target_file, &mut chunk)?;
        if n == 0 {
            break;
        }
        let range = encoder.segment_for(n);
        segment.resize((range.end - range.start) as usize, 0);
        reference_file.read_exact_at(&mut segment, range.start)?;
        delta.clear();
        encoder.push(&chunk[..n], &segment, &mut delta)?;
        out.write_all(&delta)?;
        delta_len += delta.len() as u64;
    }
    delta.clear();
    encoder.finish(&mut delta)?;
    out.write_all(&delta)?;
    delta_len += delta.len() as u64;
    out.flush()?;
    let encode_secs = started.elapsed().as_secs_f64();
    let rss = peak_rss_mib();
    eprintln!(
        "windowed: {delta_len} bytes in {encode_secs:.1} s ({:.1} MB/s); checking with xdelta3",
        target_len as f64 / 1e6 / encode_secs
    );

    let decoded = format!("{target}.windowed.decoded");
    let ok = Command::new("xdelta3")
        .args(["-d", "-f", "-s", reference, &out_path, &decoded])
        .status()?
        .success()
        && files_equal(&decoded, target)?;
    let _ = std::fs::remove_file(&decoded);

    let xd_path = format!("{target}.xdelta3.vcdiff");
    let window = reference_len.clamp(1 << 20, 1 << 31);
    let started = Instant::now();
    let status = Command::new("xdelta3")
        .args([
            "-e",
            "-9",
            "-S",
            "none",
            "-f",
            "-B",
            &window.to_string(),
            "-s",
            reference,
            target,
            &xd_path,
        ])
        .status()?;
    let xd_secs = started.elapsed().as_secs_f64();
    let xd_len = if status.success() {
        std::fs::metadata(&xd_path)?.len()
    } else {
        0
    };

    let mb = target_len as f64 / 1e6;
    println!(
        "| target MB | chunk / margin MiB | windowed delta | encode s (MB/s) | peak RSS MiB | xdelta3 -d | `xdelta3 -9 -B` delta | its s | ratio |"
    );
    println!("|---:|---|---:|---:|---:|---|---:|---:|---:|");
    println!(
        "| {mb:.0} | {chunk_mib} / {margin_mib} | {delta_len} | {encode_secs:.1} ({:.0}) | {rss:.0} | {} | {xd_len} | {xd_secs:.1} | {:.2} |",
        mb / encode_secs,
        if ok { "byte-exact" } else { "MISMATCH" },
        delta_len as f64 / xd_len.max(1) as f64
    );
    if !ok {
        return Err("xdelta3 did not decode the windowed delta to the target".into());
    }
    Ok(())
}

fn read_full(file: &mut File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match file.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn files_equal(a: &str, b: &str) -> BoxResult<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let na = read_full(&mut fa, &mut ba)?;
        let nb = read_full(&mut fb, &mut bb)?;
        if na != nb || ba[..na] != bb[..nb] {
            return Ok(false);
        }
        if na == 0 {
            return Ok(true);
        }
    }
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
