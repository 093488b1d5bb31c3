//! Does delta-ing *inside* gzip pay? Measures `deltaglider_codec::gzip` (preflate-rs) on
//! consecutive releases, and the same treatment of the deflated members of zip archives.
//!
//! ```text
//! cargo run --release -p deltaglider-codec --example gzip_eval -- [--gzip DIR] [--zip DIR]
//! ```
//!
//! Defaults: `--gzip /work/corpus/npm-tgz`, `--zip /work/corpus/wheels`. Files are taken in
//! name order; `MANIFEST.tsv` and dot-files are skipped. Deltas use `encode` with the
//! default options (native backend, level 6) against the previous file.
//!
//! - gzip: per file, `unpack` (engine analysis plus the verifying `repack`) and `repack`
//!   wall time, payload MB/s; *stored* = delta of the payload against the previous payload
//!   plus the recipe, against *plain* = delta of the `.tgz` against the previous `.tgz`. A
//!   file that `unpack` refuses counts at its plain delta.
//! - zip: every deflated member is run through preflate-rs; an *expanded* archive replaces
//!   each reproducible member's compressed bytes by its decompressed bytes and appends the
//!   corrections at the end. *stored* = delta of expanded archives, against the plain delta.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deltaglider_codec::gzip::{Limits, repack, unpack};
use deltaglider_codec::{EncodeOptions, encode};
use preflate_rs::{PreflateConfig, preflate_whole_deflate_stream, recreate_whole_deflate_stream};

type BoxResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BoxResult<()> {
    let mut gzip_dir = PathBuf::from("/work/corpus/npm-tgz");
    let mut zip_dir = PathBuf::from("/work/corpus/wheels");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(format!("{arg} needs a value"))?;
        match arg.as_str() {
            "--gzip" => gzip_dir = value.into(),
            "--zip" => zip_dir = value.into(),
            _ => return Err(format!("unknown argument {arg}").into()),
        }
    }
    if gzip_dir.is_dir() {
        eval_gzip(&files(&gzip_dir)?)?;
    }
    if zip_dir.is_dir() {
        eval_zip(&files(&zip_dir)?)?;
    }
    Ok(())
}

fn files(dir: &Path) -> BoxResult<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    out.retain(|p| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        p.is_file() && !name.starts_with('.') && name != "MANIFEST.tsv"
    });
    out.sort();
    Ok(out)
}

fn name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn delta_len(reference: &[u8], target: &[u8]) -> BoxResult<usize> {
    let delta = encode(reference, target, &EncodeOptions::default())?.into_delta();
    Ok(delta.ok_or("encode gave up without a ratio limit")?.len())
}

fn mb_per_s(bytes: usize, t: Duration) -> f64 {
    bytes as f64 / 1e6 / t.as_secs_f64().max(1e-9)
}

fn pct(part: usize, whole: usize) -> f64 {
    100.0 * part as f64 / whole.max(1) as f64
}

fn eval_gzip(paths: &[PathBuf]) -> BoxResult<()> {
    println!("## gzip: {} files\n", paths.len());
    println!(
        "| file | size | payload | recipe | unpack s | repack s | unpack MB/s | repack MB/s | plain delta | stored | stored % |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let (mut total, mut total_plain, mut total_stored) = (0, 0, 0);
    let mut prev: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
    for path in paths {
        let gz = fs::read(path)?;
        let t = Instant::now();
        let unpacked = unpack(&gz, &Limits::default())?;
        let t_unpack = t.elapsed();
        let (payload_len, recipe_len, t_repack) = match &unpacked {
            Some(u) => {
                let t = Instant::now();
                let back = repack(&u.payload, &u.recipe)?;
                let t_repack = t.elapsed();
                assert_eq!(back, gz, "repack is byte-exact");
                (u.payload.len(), u.recipe.len(), Some(t_repack))
            }
            None => (0, 0, None),
        };
        let payload = unpacked.map(|u| u.payload);
        let (plain, stored) = match &prev {
            None => (None, None),
            Some((prev_gz, prev_payload)) => {
                let plain = delta_len(prev_gz, &gz)?;
                let stored = match (prev_payload, &payload) {
                    (Some(a), Some(b)) => delta_len(a, b)? + recipe_len,
                    _ => plain,
                };
                (Some(plain), Some(stored))
            }
        };
        if let (Some(p), Some(s)) = (plain, stored) {
            total += gz.len();
            total_plain += p;
            total_stored += s;
        }
        let show = |v: Option<usize>| v.map_or("—".to_owned(), |v| v.to_string());
        let secs =
            |t: Option<Duration>| t.map_or("—".to_owned(), |t| format!("{:.2}", t.as_secs_f64()));
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {:.1} | {} | {} | {} | {} |",
            name(path),
            gz.len(),
            if payload.is_some() {
                payload_len.to_string()
            } else {
                "refused".to_owned()
            },
            recipe_len,
            t_unpack.as_secs_f64(),
            secs(t_repack),
            mb_per_s(payload_len, t_unpack),
            t_repack.map_or("—".to_owned(), |t| format!(
                "{:.1}",
                mb_per_s(payload_len, t)
            )),
            show(plain),
            show(stored),
            stored.map_or("—".to_owned(), |s| format!("{:.2}", pct(s, gz.len()))),
        );
        prev = Some((gz, payload));
    }
    println!(
        "\nTotal over {} deltas: original {total} B, plain delta {total_plain} B ({:.1} %), \
         gzip-aware {total_stored} B ({:.2} %)\n",
        paths.len().saturating_sub(1),
        pct(total_plain, total),
        pct(total_stored, total),
    );
    Ok(())
}

/// A zip archive's deflated members replaced by their payloads, corrections at the end.
struct Expanded {
    bytes: Vec<u8>,
    members: usize,
    deflated: usize,
    reproduced: usize,
    corrections: usize,
    analyse: Duration,
    recreate: Duration,
    payload: usize,
}

fn u16_at(b: &[u8], at: usize) -> BoxResult<usize> {
    let s = b.get(at..at + 2).ok_or("zip: truncated")?;
    Ok(usize::from(u16::from_le_bytes([s[0], s[1]])))
}

fn u32_at(b: &[u8], at: usize) -> BoxResult<usize> {
    let s = b.get(at..at + 4).ok_or("zip: truncated")?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]) as usize)
}

/// Walks the central directory (no zip64: the corpus has none) and expands every member.
fn expand_zip(zip: &[u8]) -> BoxResult<Expanded> {
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(b"PK\x05\x06"))
        .ok_or("zip: no end of central directory")?;
    let (count, mut cd) = (u16_at(zip, eocd + 10)?, u32_at(zip, eocd + 16)?);
    let mut out = Expanded {
        bytes: Vec::new(),
        members: count,
        deflated: 0,
        reproduced: 0,
        corrections: 0,
        analyse: Duration::ZERO,
        recreate: Duration::ZERO,
        payload: 0,
    };
    let mut tail_corrections = Vec::new();
    let mut copied = 0;
    for _ in 0..count {
        let method = u16_at(zip, cd + 10)?;
        let csize = u32_at(zip, cd + 20)?;
        let local = u32_at(zip, cd + 42)?;
        cd += 46 + u16_at(zip, cd + 28)? + u16_at(zip, cd + 30)? + u16_at(zip, cd + 32)?;
        let data = local + 30 + u16_at(zip, local + 26)? + u16_at(zip, local + 28)?;
        let member = zip
            .get(data..data + csize)
            .ok_or("zip: member out of range")?;
        out.bytes.extend_from_slice(&zip[copied..data]);
        copied = data + csize;
        if method != 8 {
            out.bytes.extend_from_slice(member);
            continue;
        }
        out.deflated += 1;
        let config = PreflateConfig {
            verify_compression: false,
            ..PreflateConfig::default()
        };
        let t = Instant::now();
        let analysed = preflate_whole_deflate_stream(member, &config);
        out.analyse += t.elapsed();
        let Ok((result, plain)) = analysed else {
            out.bytes.extend_from_slice(member);
            continue;
        };
        let t = Instant::now();
        let back = recreate_whole_deflate_stream(plain.text(), &result.corrections);
        out.recreate += t.elapsed();
        if result.compressed_size != member.len() || back.ok().as_deref() != Some(member) {
            out.bytes.extend_from_slice(member);
            continue;
        }
        out.reproduced += 1;
        out.payload += plain.text().len();
        out.corrections += result.corrections.len();
        out.bytes.extend_from_slice(plain.text());
        tail_corrections.extend_from_slice(&result.corrections);
    }
    out.bytes.extend_from_slice(&zip[copied..]);
    out.bytes.extend_from_slice(&tail_corrections);
    Ok(out)
}

fn eval_zip(paths: &[PathBuf]) -> BoxResult<()> {
    println!("## zip: {} files\n", paths.len());
    println!(
        "| file | size | members | deflated | reproduced | payload | corrections | analyse MB/s | recreate MB/s | plain delta | stored | stored % |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let (mut total, mut total_plain, mut total_stored) = (0, 0, 0);
    let mut prev: Option<(Vec<u8>, Vec<u8>)> = None;
    for path in paths {
        let zip = fs::read(path)?;
        let e = expand_zip(&zip)?;
        let (plain, stored) = match &prev {
            None => (None, None),
            Some((prev_zip, prev_expanded)) => (
                Some(delta_len(prev_zip, &zip)?),
                Some(delta_len(prev_expanded, &e.bytes)?),
            ),
        };
        if let (Some(p), Some(s)) = (plain, stored) {
            total += zip.len();
            total_plain += p;
            total_stored += s;
        }
        let show = |v: Option<usize>| v.map_or("—".to_owned(), |v| v.to_string());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {:.1} | {:.1} | {} | {} | {} |",
            name(path),
            zip.len(),
            e.members,
            e.deflated,
            e.reproduced,
            e.payload,
            e.corrections,
            mb_per_s(e.payload, e.analyse),
            mb_per_s(e.payload, e.recreate),
            show(plain),
            show(stored),
            stored.map_or("—".to_owned(), |s| format!("{:.2}", pct(s, zip.len()))),
        );
        prev = Some((zip, e.bytes));
    }
    println!(
        "\nTotal over {} deltas: original {total} B, plain delta {total_plain} B ({:.1} %), \
         member-aware {total_stored} B ({:.2} %)\n",
        paths.len().saturating_sub(1),
        pct(total_plain, total),
        pct(total_stored, total),
    );
    Ok(())
}
