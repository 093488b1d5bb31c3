//! End-to-end comparison of the codec's two backends with the `xdelta3` and `zstd` commands:
//! delta size, encode and decode throughput, and peak memory, as Markdown tables on stdout.
//!
//! ```text
//! cargo run --release -p deltaglider-codec --example codec_bench [-- --corpus DIR]
//! ```
//!
//! Always measures a synthetic pair: a 64 MiB pseudo-random reference and a target with
//! ~1 % scattered edits. With `--corpus DIR` (or `DELTAGLIDER_CORPUS=DIR`), also every
//! family (sub-directory) of `DIR`, each consecutive pair of its files in name order
//! (`v[i-1] → v[i]`); `MANIFEST.tsv` and dot-files are skipped.
//!
//! Other options: `--runs N` timed repetitions per measurement, the fastest kept (default
//! 3); `--mib N` synthetic size (default 64); `--no-synthetic`; `--per-pair` adds a table of
//! every corpus pair's delta sizes.
//!
//! Our backends are timed in-process around the codec call alone (inputs already in
//! memory); decode means `decode_verified_with` (decode + SHA-256). The commands are timed
//! wall-clock, so their figures include process start-up and file I/O (page cache). Peak
//! memory is the `VmHWM` of a fresh child process (this program re-run with a hidden
//! `--child` argument) that reads its inputs and does one operation in memory mode.
//! Every output is checked byte for byte against the target; each of our deltas is also
//! decoded by the other backend and by `xdelta3 -d`.

#[path = "codec_bench/measure.rs"]
mod measure;
#[path = "codec_bench/report.rs"]
mod report;
#[path = "codec_bench/synthetic.rs"]
mod synthetic;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use measure::{BoxResult, Outcome, Pair, Tool};
use report::PairResult;

struct Args {
    corpus: Option<PathBuf>,
    runs: usize,
    mib: usize,
    synthetic: bool,
    per_pair: bool,
}

fn parse_args(args: &[String]) -> BoxResult<Args> {
    let mut parsed = Args {
        corpus: std::env::var_os("DELTAGLIDER_CORPUS").map(PathBuf::from),
        runs: 3,
        mib: 64,
        synthetic: true,
        per_pair: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--corpus" => parsed.corpus = Some(PathBuf::from(value("--corpus")?)),
            "--runs" => parsed.runs = value("--runs")?.parse::<usize>()?.max(1),
            "--mib" => parsed.mib = value("--mib")?.parse::<usize>()?.max(1),
            "--no-synthetic" => parsed.synthetic = false,
            "--per-pair" => parsed.per_pair = true,
            other => return Err(format!("unknown argument {other}; see the doc comment").into()),
        }
    }
    Ok(parsed)
}

/// Removes the scratch directory however the run ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((first, rest)) if first == "--child" => measure::child(rest),
        _ => parse_args(&args).and_then(|a| run(&a)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codec_bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn first_line(program: &str, arg: &str) -> String {
    std::process::Command::new(program)
        .arg(arg)
        .output()
        .ok()
        .and_then(|o| {
            let text = [o.stdout, o.stderr].concat();
            let text = String::from_utf8_lossy(&text);
            let line = text.lines().next()?;
            let line = line.split(", Copyright").next().unwrap_or(line);
            Some(
                line.trim_matches(|c: char| c == '*' || c.is_whitespace())
                    .to_string(),
            )
        })
        .unwrap_or_else(|| "not installed".into())
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Measures every tool on one pair, logging progress and failures to stderr.
fn measure_pair(name: &str, pair: &Pair<'_>) -> PairResult {
    let mut outcomes = Vec::new();
    for tool in Tool::ALL {
        eprintln!("  {name}: {}", tool.label());
        let outcome = measure::run(tool, pair);
        if let Outcome::Failed(e) = &outcome {
            eprintln!("  FAILED {name} {}: {e}", tool.label());
        }
        outcomes.push((tool, outcome));
    }
    PairResult {
        name: name.to_string(),
        reference: pair.reference.len() as u64,
        target: pair.target.len() as u64,
        outcomes,
    }
}

fn run(args: &Args) -> BoxResult<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; throughput means nothing without --release");
    }
    let work = std::env::temp_dir().join(format!("deltaglider-codec-bench-{}", std::process::id()));
    fs::create_dir_all(&work)?;
    let scratch = Scratch(work);
    let work = scratch.0.as_path();

    println!("# deltaglider-codec benchmark\n");
    println!(
        "- `xdelta3`: {}; `zstd`: {}",
        first_line("xdelta3", "-V"),
        first_line("zstd", "--version")
    );
    println!(
        "- timed runs per measurement: {} (fastest kept); 1-min load average at start: {}",
        args.runs,
        load_average()
    );
    println!(
        "- MB/s = 10^6 bytes of target per second. Ours: the codec call alone, inputs in memory; \
         decode = decode + SHA-256 verify. CLIs: wall clock of the command, including process \
         start-up and file I/O (page cache).\n- peak RSS: `VmHWM` of a fresh process that reads \
         the inputs and does one operation in memory mode, as a multiple of (reference + target)."
    );
    println!(
        "- commands: `xdelta3 -e [-9] -S none -D -f -s REF TGT OUT`, `xdelta3 -d -D -R -f -s REF \
         OUT DEC` (`-D -R`: no external gzip (de)compression); `zstd -q -f -T1 -3 --long=N \
         --patch-from=REF TGT -o OUT`, `zstd -q -f -d --long=N --patch-from=REF OUT -o DEC`, \
         N = bits of the larger input + 1 (zstd's own choice for `--patch-from`)."
    );

    if args.synthetic {
        let reference = synthetic::reference(args.mib << 20);
        let (target, edits) = synthetic::edited(&reference);
        let (ref_path, tgt_path) = (work.join("synthetic.ref"), work.join("synthetic.tgt"));
        fs::write(&ref_path, &reference)?;
        fs::write(&tgt_path, &target)?;
        eprintln!("synthetic {} MiB pair", args.mib);
        let pair = Pair {
            reference: &reference,
            target: &target,
            ref_path: &ref_path,
            tgt_path: &tgt_path,
            work,
            runs: args.runs,
        };
        let result = measure_pair("synthetic", &pair);
        println!(
            "\n## Synthetic: {} MiB pseudo-random reference, {} edits touching {} bytes ({:.2} %)\n",
            args.mib,
            report::thousands(edits.count as u64),
            report::thousands(edits.bytes as u64),
            100.0 * edits.bytes as f64 / reference.len() as f64
        );
        println!("{}", report::pair_table(&result));
        fs::remove_file(&ref_path)?;
        fs::remove_file(&tgt_path)?;
    }

    if let Some(dir) = &args.corpus {
        let mut families = Vec::new();
        let mut loads = Vec::new();
        for (family, files) in corpus_families(dir)? {
            loads.push(format!("{family} {}", load_average()));
            let mut pairs = Vec::new();
            let mut previous: Option<Vec<u8>> = None;
            for window in files.windows(2) {
                let reference = match previous.take() {
                    Some(bytes) => bytes,
                    None => fs::read(&window[0])?,
                };
                let target = fs::read(&window[1])?;
                let name = format!("{} → {}", file_name(&window[0]), file_name(&window[1]));
                eprintln!("{family}: {name}");
                let pair = Pair {
                    reference: &reference,
                    target: &target,
                    ref_path: &window[0],
                    tgt_path: &window[1],
                    work,
                    runs: args.runs,
                };
                pairs.push(measure_pair(&name, &pair));
                previous = Some(target);
            }
            families.push((family, pairs));
        }
        println!(
            "\n## Corpus `{}`: consecutive pairs v[i-1] → v[i]\n",
            dir.display()
        );
        println!("{}", report::family_table(&families));
        println!(
            "1-min load average as each family started: {}.\n",
            loads.join(", ")
        );
        if args.per_pair {
            println!(
                "\n### Delta bytes per pair\n\n{}",
                report::per_pair_table(&families)
            );
        }
    }
    println!("1-min load average at end: {}", load_average());
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// The families of a corpus directory: each sub-directory with at least two files, its
/// files sorted by name. A directory with no such sub-directory is itself one family.
fn corpus_families(dir: &Path) -> BoxResult<Vec<(String, Vec<PathBuf>)>> {
    let listing = |d: &Path| -> BoxResult<Vec<PathBuf>> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(d)? {
            let path = entry?.path();
            let name = file_name(&path);
            if !name.starts_with('.') && name != "MANIFEST.tsv" {
                entries.push(path);
            }
        }
        entries.sort();
        Ok(entries)
    };
    let mut families = Vec::new();
    for path in listing(dir)? {
        if path.is_dir() {
            let files: Vec<PathBuf> = listing(&path)?
                .into_iter()
                .filter(|p| p.is_file())
                .collect();
            if files.len() >= 2 {
                families.push((file_name(&path), files));
            }
        }
    }
    if families.is_empty() {
        let files: Vec<PathBuf> = listing(dir)?.into_iter().filter(|p| p.is_file()).collect();
        if files.len() < 2 {
            return Err(format!("{}: no family with two files or more", dir.display()).into());
        }
        families.push((file_name(dir), files));
    }
    Ok(families)
}
