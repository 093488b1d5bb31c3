//! Running one tool on one (reference, target) pair, and the `--child` peak-memory mode.

use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use deltaglider_codec::{
    Backend, EncodeOptions, Sha256, Sha256Digest, decode_verified_with, encode,
};

pub(crate) type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The contenders, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tool {
    Native,
    Pure,
    Xdelta3,
    Xdelta3Best,
    Zstd,
}

impl Tool {
    pub(crate) const ALL: [Tool; 5] = [
        Tool::Native,
        Tool::Pure,
        Tool::Xdelta3,
        Tool::Xdelta3Best,
        Tool::Zstd,
    ];

    pub(crate) fn label(self) -> &'static str {
        match self {
            Tool::Native => "ours, native (xdelta3 lib)",
            Tool::Pure => "ours, pure (oxidelta)",
            Tool::Xdelta3 => "`xdelta3 -e -S none`",
            Tool::Xdelta3Best => "`xdelta3 -e -9 -S none`",
            Tool::Zstd => "`zstd -3 --patch-from --long=N`",
        }
    }
}

/// One pair, in memory and on disk (the CLIs and the children read the files).
pub(crate) struct Pair<'a> {
    pub(crate) reference: &'a [u8],
    pub(crate) target: &'a [u8],
    pub(crate) ref_path: &'a Path,
    pub(crate) tgt_path: &'a Path,
    /// Scratch directory for deltas and decoded outputs.
    pub(crate) work: &'a Path,
    /// Timed repetitions; the fastest is kept.
    pub(crate) runs: usize,
}

/// What a tool achieved on a pair.
#[derive(Debug, Clone)]
pub(crate) struct Measured {
    pub(crate) delta: u64,
    pub(crate) encode: Duration,
    pub(crate) decode: Duration,
    /// Max RSS of a fresh process doing only this operation (ours only; Linux only).
    pub(crate) peak_encode: Option<u64>,
    pub(crate) peak_decode: Option<u64>,
}

#[derive(Debug, Clone)]
pub(crate) enum Outcome {
    Done(Measured),
    NotInstalled,
    Failed(String),
}

pub(crate) fn run(tool: Tool, pair: &Pair<'_>) -> Outcome {
    let result = match tool {
        Tool::Native if !Backend::Native.is_available() => return Outcome::NotInstalled,
        Tool::Native => ours(Backend::Native, pair),
        Tool::Pure => ours(Backend::Pure, pair),
        Tool::Xdelta3 | Tool::Xdelta3Best | Tool::Zstd => match cli(tool, pair) {
            Err(CliError::NotInstalled) => return Outcome::NotInstalled,
            Err(CliError::Other(e)) => Err(e.into()),
            Ok(m) => Ok(m),
        },
    };
    result.map_or_else(|e| Outcome::Failed(e.to_string()), Outcome::Done)
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Native => "native",
        Backend::Pure => "pure",
    }
}

/// Our backend in this process: encode, then decode + SHA-256 verify, each the fastest of
/// `runs`; then interop checks and the peak-memory children.
fn ours(backend: Backend, p: &Pair<'_>) -> BoxResult<Measured> {
    let options = EncodeOptions::default().backend(backend);
    let mut delta: Option<Vec<u8>> = None;
    let mut encode_best = Duration::MAX;
    for _ in 0..p.runs {
        let start = Instant::now();
        let encoded = encode(p.reference, p.target, &options)?;
        encode_best = encode_best.min(start.elapsed());
        let fresh = encoded
            .into_delta()
            .ok_or("encoder gave up without a cap")?;
        if delta.as_ref().is_some_and(|d| *d != fresh) {
            return Err("encoding the same pair twice gave different deltas".into());
        }
        delta = Some(fresh);
    }
    let delta = delta.ok_or("no runs")?;

    let sha = Sha256::digest(p.target);
    let len = p.target.len() as u64;
    let mut decode_best = Duration::MAX;
    for _ in 0..p.runs {
        let start = Instant::now();
        let out = decode_verified_with(backend, p.reference, &delta, len, &sha)?;
        decode_best = decode_best.min(start.elapsed());
        if out != p.target {
            return Err("decoded bytes differ from the target".into());
        }
    }

    // Interop: the other backend and the xdelta3 command decode this delta too.
    let other = match backend {
        Backend::Native => Backend::Pure,
        Backend::Pure => Backend::Native,
    };
    if other.is_available() {
        decode_verified_with(other, p.reference, &delta, len, &sha)
            .map_err(|e| format!("{other} failed on this delta: {e}"))?;
    }
    let name = backend_name(backend);
    let delta_path = p.work.join(format!("{name}.delta"));
    fs::write(&delta_path, &delta)?;
    let out_path = p.work.join(format!("{name}.xdelta3-decoded"));
    let args = os_args(XDELTA3_DECODE, [p.ref_path, &delta_path, &out_path]);
    match timed("xdelta3", &args) {
        Ok(_) => verify_file(&out_path, p.target, "`xdelta3 -d` of our delta")?,
        Err(CliError::NotInstalled) => {}
        Err(CliError::Other(e)) => return Err(format!("`xdelta3 -d` of our delta: {e}").into()),
    }

    let peak_encode = child_peak(&[
        "encode".into(),
        name.into(),
        p.ref_path.into(),
        p.tgt_path.into(),
    ])?;
    let peak_decode = child_peak(&[
        "decode".into(),
        name.into(),
        p.ref_path.into(),
        delta_path.clone().into(),
        len.to_string().into(),
        sha.to_hex().into(),
    ])?;
    fs::remove_file(&delta_path)?;
    Ok(Measured {
        delta: delta.len() as u64,
        encode: encode_best,
        decode: decode_best,
        peak_encode,
        peak_decode,
    })
}

/// Runs this program again as `--child ARGS` and returns the child's peak RSS.
fn child_peak(args: &[OsString]) -> BoxResult<Option<u64>> {
    let out = Command::new(std::env::current_exe()?)
        .arg("--child")
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!("peak-memory child failed: {}", stderr.trim()).into());
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ok(stdout
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix("peak="))
        .and_then(|v| v.parse().ok()))
}

/// `VmHWM` (peak resident set) of this process, in bytes; `None` off Linux.
fn vm_hwm() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The hidden `--child` mode: one operation in memory mode, as a caller would do it (whole
/// reference and target or delta in memory), then prints `peak=BYTES start=BYTES`.
///
/// `encode BACKEND REF TARGET` or `decode BACKEND REF DELTA LEN SHA256HEX`.
pub(crate) fn child(args: &[String]) -> BoxResult<()> {
    let start = vm_hwm();
    let [op, backend, reference, rest @ ..] = args else {
        return Err("usage: --child encode|decode native|pure REF ...".into());
    };
    let backend = match backend.as_str() {
        "native" => Backend::Native,
        "pure" => Backend::Pure,
        other => return Err(format!("unknown backend {other}").into()),
    };
    let reference = fs::read(reference)?;
    let produced = match (op.as_str(), rest) {
        ("encode", [target]) => {
            let target = fs::read(target)?;
            let options = EncodeOptions::default().backend(backend);
            let delta = encode(&reference, &target, &options)?.into_delta();
            delta.ok_or("encoder gave up without a cap")?.len()
        }
        ("decode", [delta, len, sha]) => {
            let delta = fs::read(delta)?;
            let sha: Sha256Digest = sha.parse()?;
            decode_verified_with(backend, &reference, &delta, len.parse()?, &sha)?.len()
        }
        _ => return Err(format!("bad child arguments: {args:?}").into()),
    };
    let show = |v: Option<u64>| v.map_or("unknown".to_string(), |v| v.to_string());
    println!(
        "peak={} start={} produced={produced}",
        show(vm_hwm()),
        show(start)
    );
    Ok(())
}

/// `xdelta3 -d`; `-D -R`: no external (de)compression of gzip'd inputs, so the command sees
/// the same bytes we do.
const XDELTA3_DECODE: &[&str] = &["-d", "-D", "-R", "-f", "-s"];

enum CliError {
    NotInstalled,
    Other(String),
}

fn os_args<const N: usize>(flags: &[&str], paths: [&Path; N]) -> Vec<OsString> {
    let flags = flags.iter().map(OsString::from);
    flags.chain(paths.iter().map(OsString::from)).collect()
}

/// Wall time of one command, process start-up and file I/O included.
fn timed(program: &str, args: &[OsString]) -> Result<Duration, CliError> {
    let start = Instant::now();
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let elapsed = start.elapsed();
    match out {
        Err(e) if e.kind() == ErrorKind::NotFound => Err(CliError::NotInstalled),
        Err(e) => Err(CliError::Other(format!("{program}: {e}"))),
        Ok(o) if !o.status.success() => Err(CliError::Other(format!(
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&o.stderr).trim()
        ))),
        Ok(_) => Ok(elapsed),
    }
}

fn verify_file(path: &Path, expected: &[u8], what: &str) -> BoxResult<()> {
    let actual = fs::read(path)?;
    fs::remove_file(path)?;
    if actual != expected {
        return Err(format!("{what}: output differs from the target").into());
    }
    Ok(())
}

/// zstd's `--long=N` for a pair: the window log zstd itself picks for `--patch-from`
/// (highest bit of the larger input, plus one), so the whole reference is in reach.
pub(crate) fn zstd_window_log(reference: u64, target: u64) -> u32 {
    (64 - reference.max(target).max(1).leading_zeros()).clamp(10, 31)
}

fn cli(tool: Tool, p: &Pair<'_>) -> Result<Measured, CliError> {
    let delta = p.work.join("cli.delta");
    let decoded = p.work.join("cli.decoded");
    let (program, encode_args, decode_args) = match tool {
        Tool::Zstd => {
            let long = format!(
                "--long={}",
                zstd_window_log(p.reference.len() as u64, p.target.len() as u64)
            );
            let mut patch_from = OsString::from("--patch-from=");
            patch_from.push(p.ref_path);
            let mut enc = os_args(&["-q", "-f", "-T1", "-3", &long], []);
            enc.push(patch_from.clone());
            enc.extend(os_args(&[], [p.tgt_path]));
            enc.extend(os_args(&["-o"], [&delta]));
            let mut dec = os_args(&["-q", "-f", "-d", &long], []);
            dec.push(patch_from);
            dec.extend(os_args(&[], [&delta]));
            dec.extend(os_args(&["-o"], [&decoded]));
            ("zstd", enc, dec)
        }
        _ => {
            let flags: &[&str] = if tool == Tool::Xdelta3Best {
                &["-e", "-9", "-S", "none", "-D", "-f", "-s"]
            } else {
                &["-e", "-S", "none", "-D", "-f", "-s"]
            };
            let enc = os_args(flags, [p.ref_path, p.tgt_path, &delta]);
            let dec = os_args(XDELTA3_DECODE, [p.ref_path, &delta, &decoded]);
            ("xdelta3", enc, dec)
        }
    };
    let other = |e: Box<dyn std::error::Error>| CliError::Other(e.to_string());
    let mut encode_best = Duration::MAX;
    let mut decode_best = Duration::MAX;
    for _ in 0..p.runs {
        encode_best = encode_best.min(timed(program, &encode_args)?);
    }
    let size = fs::metadata(&delta).map_err(|e| other(e.into()))?.len();
    for _ in 0..p.runs {
        decode_best = decode_best.min(timed(program, &decode_args)?);
        verify_file(&decoded, p.target, program).map_err(other)?;
    }
    fs::remove_file(&delta).map_err(|e| other(e.into()))?;
    Ok(Measured {
        delta: size,
        encode: encode_best,
        decode: decode_best,
        peak_encode: None,
        peak_decode: None,
    })
}
