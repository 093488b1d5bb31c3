//! Does delta-ing *inside* compressed containers pay, and how fast? Runs
//! `deltaglider_codec::container` over families of consecutive releases.
//!
//! ```text
//! cargo run --release -p deltaglider-codec --example container_eval -- DIR...
//! ```
//!
//! Each DIR is one family (files in name order; `MANIFEST.tsv` and dot-files skipped).
//! Per file: `unpack` (identification, with the recipe check) and `repack` wall time in MB/s
//! of *compressed* bytes, how its deflate streams are rebuilt, the recipe size, and the
//! stored size against the previous version: recipe plus a delta of the payloads, against
//! a plain delta of the compressed files (a refused file counts at its plain delta). The
//! first file of a family counts whole. Deltas use `encode` with the default options.

use std::collections::BTreeMap;
use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deltaglider_codec::container::{Limits, describe, repack, unpack};
use deltaglider_codec::{EncodeOptions, encode};

type BoxResult<T> = Result<T, Box<dyn Error>>;

fn main() -> BoxResult<()> {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        return Err("usage: container_eval DIR...".into());
    }
    println!(
        "| family | files | accepted | MB | unpack MB/s | repack MB/s | recipe B/file | plain % | stored % | methods |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for dir in dirs {
        eval_family(&dir)?;
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

fn delta_len(reference: &[u8], target: &[u8]) -> BoxResult<usize> {
    let delta = encode(reference, target, &EncodeOptions::default())?.into_delta();
    Ok(delta.ok_or("encode gave up without a ratio limit")?.len())
}

/// Totals over one family.
#[derive(Default)]
struct Totals {
    files: usize,
    accepted: usize,
    bytes: usize,
    accepted_bytes: usize,
    unpack: Duration,
    repack: Duration,
    recipe: usize,
    plain: usize,
    stored: usize,
    methods: BTreeMap<String, usize>,
}

fn eval_family(dir: &Path) -> BoxResult<()> {
    let mut t = Totals::default();
    let mut prev: Option<(Vec<u8>, Option<Vec<u8>>)> = None;
    for path in files(dir)? {
        let data = fs::read(&path)?;
        let started = Instant::now();
        let unpacked = unpack(&data, &Limits::default())?;
        let unpack_time = started.elapsed();
        t.files += 1;
        t.bytes += data.len();
        t.unpack += unpack_time;
        if let Some(u) = &unpacked {
            let started = Instant::now();
            let back = repack(&u.payload, &u.recipe)?;
            t.repack += started.elapsed();
            if back != data {
                return Err(format!("{}: repack is not byte-exact", path.display()).into());
            }
            t.accepted += 1;
            t.accepted_bytes += data.len();
            t.recipe += u.recipe.len();
            for s in describe(&u.recipe)?.streams {
                // Fix-up and correction sizes vary per stream: count by kind.
                let kind = s.method.split(" + ").next().unwrap_or_default();
                let kind = kind.split(',').next().unwrap_or_default().to_owned();
                *t.methods.entry(kind).or_default() += 1;
            }
        }
        let payload = unpacked.map(|u| (u.payload, u.recipe.len()));
        let (plain, stored) = match &prev {
            None => (data.len(), data.len()),
            Some((prev_data, prev_payload)) => {
                let plain = delta_len(prev_data, &data)?;
                let stored = match (prev_payload, &payload) {
                    (Some(a), Some((b, recipe))) => (delta_len(a, b)? + recipe).min(plain),
                    _ => plain,
                };
                (plain, stored)
            }
        };
        t.plain += plain;
        t.stored += stored;
        let reference_payload = deltaglider_codec::container::payload(&data, &Limits::default());
        prev = Some((data, reference_payload));
    }
    report(dir, &t);
    Ok(())
}

fn report(dir: &Path, t: &Totals) {
    let mbps = |bytes: usize, d: Duration| bytes as f64 / 1e6 / d.as_secs_f64().max(1e-9);
    let pct = |part: usize| 100.0 * part as f64 / t.bytes.max(1) as f64;
    let methods: Vec<String> = t.methods.iter().map(|(m, n)| format!("{m} ×{n}")).collect();
    println!(
        "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.1} | {:.1} | {} |",
        dir.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        t.files,
        t.accepted,
        t.bytes as f64 / 1e6,
        mbps(t.bytes, t.unpack),
        mbps(t.accepted_bytes, t.repack),
        t.recipe / t.accepted.max(1),
        pct(t.plain),
        pct(t.stored),
        methods.join(", "),
    );
}
