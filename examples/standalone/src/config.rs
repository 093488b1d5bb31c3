//! Command-line flags, `DELTAGLIDER_*` environment variables and an optional TOML file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use deltaglider::References;
use serde::Deserialize;

use crate::server::Limits;

/// deltaglider-proxy: an S3 endpoint that stores binary-similar objects as deltas.
///
/// Every flag can also be set as an environment variable `DELTAGLIDER_<FLAG>` (for example
/// `DELTAGLIDER_LISTEN=0.0.0.0:9000`) or in the TOML file given with `--config` (keys are
/// the flag names, `data-dir = "/srv/dg"`; `data_dir` is read too). Flags win over the
/// environment, the environment over the file.
#[derive(Debug, Clone, Parser)]
#[command(version, about, long_about = None)]
pub(crate) struct Args {
    /// TOML file with any of the settings below.
    #[arg(long, env = "DELTAGLIDER_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// Address to serve S3 on (default 127.0.0.1:9000).
    #[arg(long, env = "DELTAGLIDER_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,
    /// Directory of the embedded filesystem backend, one subdirectory per bucket (default
    /// ./data).
    #[arg(long, env = "DELTAGLIDER_DATA_DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// S3 endpoint to store into instead of the embedded backend: `http(s)://host[:port]`,
    /// addressed path style (AWS S3, R2, MinIO, SeaweedFS, Ceph, s3s-fs…).
    #[arg(long, env = "DELTAGLIDER_UPSTREAM")]
    pub(crate) upstream: Option<String>,
    /// Region of the upstream endpoint, for signing (default us-east-1).
    #[arg(long, env = "DELTAGLIDER_UPSTREAM_REGION")]
    pub(crate) upstream_region: Option<String>,
    /// Access key for the upstream endpoint (without one, upstream requests are unsigned).
    #[arg(long, env = "DELTAGLIDER_UPSTREAM_ACCESS_KEY")]
    pub(crate) upstream_access_key: Option<String>,
    /// Secret key for the upstream endpoint.
    #[arg(long, env = "DELTAGLIDER_UPSTREAM_SECRET_KEY", hide_env_values = true)]
    pub(crate) upstream_secret_key: Option<String>,
    /// Access key clients must sign with.
    #[arg(long, env = "DELTAGLIDER_ACCESS_KEY")]
    pub(crate) access_key: Option<String>,
    /// Secret key clients must sign with.
    #[arg(long, env = "DELTAGLIDER_SECRET_KEY", hide_env_values = true)]
    pub(crate) secret_key: Option<String>,
    /// More client key pairs, `ACCESS_KEY:SECRET_KEY`; repeatable (comma-separated in the
    /// environment). Every pair is accepted alongside `--access-key`/`--secret-key`.
    #[arg(
        long = "credentials",
        env = "DELTAGLIDER_CREDENTIALS",
        value_name = "ACCESS_KEY:SECRET_KEY",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub(crate) more_credentials: Vec<String>,
    /// Store an object as a delta only when delta / original is below this (default 0.5).
    #[arg(long, env = "DELTAGLIDER_MAX_DELTA_RATIO")]
    pub(crate) max_delta_ratio: Option<f64>,
    /// Which reference a new object is encoded against: `first` (the deltaspace's first
    /// reference only, as the Python DeltaGlider CLI does: everything stays readable by it)
    /// or `best-N` (the most similar of the N newest references, with re-baselining;
    /// default best-3).
    #[arg(long, env = "DELTAGLIDER_REFERENCES")]
    pub(crate) references: Option<String>,
    /// Deltas inside compressed containers, gzip (`.tgz`, `.tar.gz`, `.crate`, `.gz`), zip
    /// (`.zip`, `.whl`, `.jar`, …), bzip2 (`.tar.bz2`) and xz (`.tar.xz`, single-threaded
    /// `xz`): delta the decompressed payload and keep a recipe that recompresses it byte
    /// for byte (default true). Reading such an object back recompresses it: slower than a
    /// plain delta (bzip2 ~13 MB/s, xz -6 ~4 MB/s of payload per stream).
    #[arg(long, env = "DELTAGLIDER_GZIP_PAYLOADS", value_name = "true|false")]
    pub(crate) gzip_payloads: Option<bool>,
    /// Largest eligible object encoded in memory, in MiB (default 512): the layer holds the
    /// object, its reference and its delta while encoding or rebuilding it, so this bounds a
    /// request's memory (about three times it); larger objects take the bounded-memory
    /// path (--max-large-object-size-mb). It also bounds any delta held.
    #[arg(long, env = "DELTAGLIDER_MAX_OBJECT_SIZE_MB")]
    pub(crate) max_object_size_mb: Option<u64>,
    /// Largest object stored as a delta by the bounded-memory path, in MiB (default
    /// 5242880, S3's 5 TiB; 0: objects above --max-object-size-mb stay whole). Such an
    /// object is read back from the backend by ranges once complete and encoded chunk by
    /// chunk against the reference around each chunk's place; its delta must still come
    /// under --max-object-size-mb.
    #[arg(long, env = "DELTAGLIDER_MAX_LARGE_OBJECT_SIZE_MB")]
    pub(crate) max_large_object_size_mb: Option<u64>,
    /// Large objects: MiB encoded at a time (1–8, default 8).
    #[arg(long, env = "DELTAGLIDER_LARGE_CHUNK_MB")]
    pub(crate) large_chunk_mb: Option<u64>,
    /// Large objects: how far around a chunk's expected place its match is looked for, in
    /// MiB each side (default 8). Inserts or moves further than this are not found.
    #[arg(long, env = "DELTAGLIDER_LARGE_MARGIN_MB")]
    pub(crate) large_margin_mb: Option<u64>,
    /// Largest decompressed payload of a container object handled, in MiB (default 256):
    /// bounds the memory and the time of its PUT (which runs the identified encoder once:
    /// 15–50 MB/s of payload at levels 9–6); larger ones are stored by the plain rules.
    #[arg(long, env = "DELTAGLIDER_MAX_PAYLOAD_SIZE_MB")]
    pub(crate) max_payload_size_mb: Option<u64>,
    /// Memory for gzip archives rebuilt from payload deltas, in MiB (default 128): a
    /// release downloaded again and again is recompressed once.
    #[arg(long, env = "DELTAGLIDER_REBUILT_CACHE_MB")]
    pub(crate) rebuilt_cache_mb: Option<u64>,
    /// Memory for cached references, in MiB (default 1024).
    #[arg(long, env = "DELTAGLIDER_CACHE_SIZE_MB")]
    pub(crate) cache_size_mb: Option<u64>,
    /// Bearer token that grants access to `/_deltaglider/metrics` (`Authorization: Bearer
    /// <token>`). With client credentials set, metrics otherwise need a signed request;
    /// without, they are open unless a token is set.
    #[arg(long, env = "DELTAGLIDER_METRICS_TOKEN", hide_env_values = true)]
    pub(crate) metrics_token: Option<String>,
    /// Serve unsigned requests (required to listen beyond loopback without credentials).
    #[arg(long, env = "DELTAGLIDER_ALLOW_ANONYMOUS")]
    pub(crate) allow_anonymous: bool,
    /// Embedded backend: abort multipart uploads left incomplete for this many hours and
    /// remove their parts, at start and every hour, like S3's lifecycle rule
    /// AbortIncompleteMultipartUpload (default 168, a week; 0 keeps them forever).
    #[arg(long, env = "DELTAGLIDER_ABORT_INCOMPLETE_UPLOADS_AFTER_HOURS")]
    pub(crate) abort_incomplete_uploads_after_hours: Option<u64>,
    /// Connections served at once (default 1024); more wait to be accepted.
    #[arg(long, env = "DELTAGLIDER_MAX_CONNECTIONS")]
    pub(crate) max_connections: Option<usize>,
    /// Seconds a client has to send a request's headers; also the longest a connection
    /// may sit idle between requests (default 30).
    #[arg(long, env = "DELTAGLIDER_HEADER_TIMEOUT_SECS")]
    pub(crate) header_timeout_secs: Option<u64>,
    /// Largest request line and headers, in bytes (default 16384, at least 8192): S3
    /// allows 8 KB of headers; larger requests get 431.
    #[arg(long, env = "DELTAGLIDER_MAX_HEADER_BYTES")]
    pub(crate) max_header_bytes: Option<usize>,
    /// Seconds a request body may pause before the request fails and nothing is stored
    /// (default 60).
    #[arg(long, env = "DELTAGLIDER_BODY_IDLE_TIMEOUT_SECS")]
    pub(crate) body_idle_timeout_secs: Option<u64>,
    /// Serve the stored layout as it is, without delta handling (`<key>.delta`,
    /// `reference.bin` and all): for inspection and for other DeltaGlider tools.
    #[arg(long, env = "DELTAGLIDER_RAW")]
    pub(crate) raw: bool,
    /// How log lines are written (default text): `text`, coloured only on a terminal and
    /// never with NO_COLOR set, or `json`, one JSON object a line. RUST_LOG picks what is
    /// logged (default `info`, without s3s's own reports of the errors it answers).
    #[arg(long, env = "DELTAGLIDER_LOG_FORMAT", value_enum)]
    pub(crate) log_format: Option<LogFormat>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

/// The settings file: the same names as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    upstream: Option<String>,
    upstream_region: Option<String>,
    upstream_access_key: Option<String>,
    upstream_secret_key: Option<String>,
    access_key: Option<String>,
    secret_key: Option<String>,
    credentials: Option<Vec<String>>,
    max_delta_ratio: Option<f64>,
    cache_size_mb: Option<u64>,
    references: Option<String>,
    gzip_payloads: Option<bool>,
    max_object_size_mb: Option<u64>,
    max_large_object_size_mb: Option<u64>,
    large_chunk_mb: Option<u64>,
    large_margin_mb: Option<u64>,
    max_payload_size_mb: Option<u64>,
    rebuilt_cache_mb: Option<u64>,
    allow_anonymous: Option<bool>,
    metrics_token: Option<String>,
    abort_incomplete_uploads_after_hours: Option<u64>,
    max_connections: Option<usize>,
    header_timeout_secs: Option<u64>,
    max_header_bytes: Option<usize>,
    body_idle_timeout_secs: Option<u64>,
    raw: Option<bool>,
    log_format: Option<LogFormat>,
}

/// An upstream S3 endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Upstream {
    pub(crate) url: String,
    pub(crate) region: String,
    pub(crate) credentials: Option<(String, String)>,
}

/// The resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) upstream: Option<Upstream>,
    /// The key pairs clients may sign with; empty: signatures are not checked.
    pub(crate) credentials: Vec<(String, String)>,
    pub(crate) max_delta_ratio: f64,
    pub(crate) cache_size_mb: u64,
    pub(crate) references: References,
    pub(crate) gzip_payloads: bool,
    pub(crate) max_object_size_mb: u64,
    pub(crate) max_large_object_size_mb: u64,
    pub(crate) large_chunk_mb: u64,
    pub(crate) large_margin_mb: u64,
    pub(crate) max_payload_size_mb: u64,
    pub(crate) rebuilt_cache_mb: u64,
    pub(crate) allow_anonymous: bool,
    pub(crate) metrics_token: Option<String>,
    pub(crate) abort_incomplete_uploads_after: Option<Duration>,
    pub(crate) limits: Limits,
    pub(crate) raw: bool,
    pub(crate) log_format: LogFormat,
}

impl Settings {
    /// Merges flags/environment over the file and applies defaults and safety rules.
    pub(crate) fn resolve(args: Args) -> Result<Self, String> {
        let file = read_file(args.config.as_deref())?;
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 9000)));
        let more = if args.more_credentials.is_empty() {
            file.credentials.clone().unwrap_or_default()
        } else {
            args.more_credentials.clone()
        };
        let credentials = client_credentials(
            args.access_key.clone().or(file.access_key.clone()),
            args.secret_key.clone().or(file.secret_key.clone()),
            more,
        )?;
        let allow_anonymous = args.allow_anonymous || file.allow_anonymous.unwrap_or(false);
        if credentials.is_empty() && !allow_anonymous && !listen.ip().is_loopback() {
            return Err(format!(
                "refusing to serve {listen} without client credentials: set --access-key and \
                 --secret-key, or pass --allow-anonymous"
            ));
        }
        let max_delta_ratio = args.max_delta_ratio.or(file.max_delta_ratio).unwrap_or(0.5);
        if !(max_delta_ratio > 0.0 && max_delta_ratio <= 1.0) {
            return Err(format!(
                "--max-delta-ratio must be in (0, 1], got {max_delta_ratio}"
            ));
        }
        let upstream = upstream(&args, &file)?;
        let limits = limits(&args, &file)?;
        Ok(Self {
            listen,
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("data")),
            upstream,
            credentials,
            max_delta_ratio,
            cache_size_mb: args.cache_size_mb.or(file.cache_size_mb).unwrap_or(1024),
            references: parse_references(
                args.references
                    .or(file.references)
                    .as_deref()
                    .unwrap_or("best-3"),
            )?,
            gzip_payloads: args.gzip_payloads.or(file.gzip_payloads).unwrap_or(true),
            max_object_size_mb: pick(args.max_object_size_mb, file.max_object_size_mb, 512),
            max_large_object_size_mb: pick(
                args.max_large_object_size_mb,
                file.max_large_object_size_mb,
                5 << 20,
            ),
            large_chunk_mb: pick(args.large_chunk_mb, file.large_chunk_mb, 8).clamp(1, 8),
            large_margin_mb: pick(args.large_margin_mb, file.large_margin_mb, 8),
            max_payload_size_mb: pick(args.max_payload_size_mb, file.max_payload_size_mb, 256),
            rebuilt_cache_mb: pick(args.rebuilt_cache_mb, file.rebuilt_cache_mb, 128),
            allow_anonymous,
            metrics_token: args
                .metrics_token
                .or(file.metrics_token)
                .filter(|t| !t.is_empty()),
            abort_incomplete_uploads_after: Some(
                args.abort_incomplete_uploads_after_hours
                    .or(file.abort_incomplete_uploads_after_hours)
                    .unwrap_or(168),
            )
            .filter(|hours| *hours > 0)
            .map(|hours| Duration::from_secs(hours.saturating_mul(3600))),
            limits,
            raw: args.raw || file.raw.unwrap_or(false),
            log_format: pick(args.log_format, file.log_format, LogFormat::Text),
        })
    }
}

/// A flag's value (or the environment's), else the file's, else `default`.
fn pick<T>(flag: Option<T>, file: Option<T>, default: T) -> T {
    flag.or(file).unwrap_or(default)
}

/// The settings file, or none.
fn read_file(path: Option<&Path>) -> Result<File, String> {
    let Some(path) = path else {
        return Ok(File::default());
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_file(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The settings in `text`: keys spelt as the flags (`data-dir`) or with `_` (`data_dir`),
/// not both.
fn parse_file(text: &str) -> Result<File, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut keys = toml::Table::new();
    for (key, value) in table {
        let name = key.replace('-', "_");
        if keys.insert(name, value).is_some() {
            return Err(format!("`{key}` is set twice (as `-` and `_`)"));
        }
    }
    File::deserialize(keys).map_err(|e| e.to_string())
}

/// The client key pairs: the main one (both halves or neither), then `more`.
fn client_credentials(
    access_key: Option<String>,
    secret_key: Option<String>,
    more: Vec<String>,
) -> Result<Vec<(String, String)>, String> {
    let mut credentials = match (access_key, secret_key) {
        (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => vec![(a, s)],
        (None, None) => Vec::new(),
        _ => return Err("give both --access-key and --secret-key, or neither".into()),
    };
    for pair in more {
        credentials.push(parse_key_pair(&pair)?);
    }
    Ok(credentials)
}

/// The upstream endpoint, if one is given; its key pair has both halves or neither.
fn upstream(args: &Args, file: &File) -> Result<Option<Upstream>, String> {
    let upstream_credentials = match (
        args.upstream_access_key
            .clone()
            .or(file.upstream_access_key.clone()),
        args.upstream_secret_key
            .clone()
            .or(file.upstream_secret_key.clone()),
    ) {
        (Some(a), Some(s)) if !a.is_empty() && !s.is_empty() => Some((a, s)),
        (None, None) => None,
        _ => {
            return Err(
                "give both --upstream-access-key and --upstream-secret-key, or neither".into(),
            );
        }
    };
    Ok(args
        .upstream
        .clone()
        .or(file.upstream.clone())
        .map(|url| Upstream {
            url,
            region: args
                .upstream_region
                .clone()
                .or(file.upstream_region.clone())
                .unwrap_or_else(|| "us-east-1".into()),
            credentials: upstream_credentials,
        }))
}

/// The connection limits, each at least its minimum.
fn limits(args: &Args, file: &File) -> Result<Limits, String> {
    let limits = Limits {
        max_connections: args
            .max_connections
            .or(file.max_connections)
            .unwrap_or(1024),
        header_timeout: Duration::from_secs(
            args.header_timeout_secs
                .or(file.header_timeout_secs)
                .unwrap_or(30),
        ),
        max_header_bytes: args
            .max_header_bytes
            .or(file.max_header_bytes)
            .unwrap_or(16 << 10),
        body_idle_timeout: Duration::from_secs(
            args.body_idle_timeout_secs
                .or(file.body_idle_timeout_secs)
                .unwrap_or(60),
        ),
    };
    if limits.max_connections == 0
        || limits.header_timeout.is_zero()
        || limits.body_idle_timeout.is_zero()
    {
        return Err(
            "--max-connections, --header-timeout-secs and --body-idle-timeout-secs must be \
             at least 1"
                .into(),
        );
    }
    if limits.max_header_bytes < 8192 {
        return Err(format!(
            "--max-header-bytes must be at least 8192, got {}",
            limits.max_header_bytes
        ));
    }
    Ok(limits)
}

/// `ACCESS_KEY:SECRET_KEY`, both non-empty (access key ids never contain `:`).
fn parse_key_pair(pair: &str) -> Result<(String, String), String> {
    match pair.split_once(':') {
        Some((access, secret)) if !access.is_empty() && !secret.is_empty() => {
            Ok((access.to_owned(), secret.to_owned()))
        }
        _ => Err("--credentials: give ACCESS_KEY:SECRET_KEY".into()),
    }
}

/// `first` or `best-N` (N from 1 to 16).
fn parse_references(text: &str) -> Result<References, String> {
    if text == "first" {
        return Ok(References::First);
    }
    text.strip_prefix("best-")
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=16).contains(n))
        .map(References::Best)
        .ok_or_else(|| format!("--references: give `first` or `best-N` (N 1..16), not {text:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["deltaglider-proxy"];
        all.extend_from_slice(args);
        Settings::resolve(Args::try_parse_from(all).map_err(|e| e.to_string())?)
    }

    #[test]
    fn defaults_and_safety() {
        let s = parse(&[]).expect("defaults");
        assert_eq!(s.listen, SocketAddr::from(([127, 0, 0, 1], 9000)));
        assert_eq!(s.max_delta_ratio, 0.5);
        assert!(parse(&["--listen", "0.0.0.0:9000"]).is_err());
        assert!(parse(&["--listen", "0.0.0.0:9000", "--allow-anonymous"]).is_ok());
        assert!(
            parse(&[
                "--listen",
                "0.0.0.0:9000",
                "--access-key",
                "a",
                "--secret-key",
                "b"
            ])
            .is_ok()
        );
        assert!(parse(&["--access-key", "a"]).is_err());
        assert!(parse(&["--upstream", "http://h:1", "--upstream-access-key", "a"]).is_err());
        let up = parse(&[
            "--upstream",
            "http://h:1",
            "--upstream-access-key",
            "a",
            "--upstream-secret-key",
            "b",
        ])
        .expect("upstream")
        .upstream
        .expect("set");
        assert_eq!(up.region, "us-east-1");
        assert!(up.credentials.is_some());
        assert!(parse(&["--max-delta-ratio", "0"]).is_err());
        assert_eq!(s.references, References::Best(3));
        let first = parse(&["--references", "first"]).expect("first");
        assert_eq!(first.references, References::First);
        assert!(parse(&["--references", "best-0"]).is_err());
        assert!(parse(&["--references", "newest"]).is_err());
        assert_eq!(s.limits.max_connections, 1024);
        assert_eq!(s.limits.header_timeout, Duration::from_secs(30));
        assert_eq!(
            s.abort_incomplete_uploads_after,
            Some(Duration::from_secs(168 * 3600))
        );
        let never = parse(&["--abort-incomplete-uploads-after-hours", "0"]).expect("never");
        assert_eq!(never.abort_incomplete_uploads_after, None);
        assert!(parse(&["--max-header-bytes", "4096"]).is_err());
        assert!(parse(&["--max-connections", "0"]).is_err());
        assert!(parse(&["--body-idle-timeout-secs", "0"]).is_err());
        assert_eq!(s.max_object_size_mb, 512);
        let big = parse(&["--max-object-size-mb", "2048"]).expect("bigger objects");
        assert_eq!(big.max_object_size_mb, 2048);
        assert_eq!(s.max_large_object_size_mb, 5 << 20);
        assert_eq!((s.large_chunk_mb, s.large_margin_mb), (8, 8));
        let off = parse(&["--max-large-object-size-mb", "0", "--large-chunk-mb", "64"])
            .expect("large objects off");
        assert_eq!((off.max_large_object_size_mb, off.large_chunk_mb), (0, 8));
        assert_eq!(s.log_format, LogFormat::Text);
        let json = parse(&["--log-format", "json"]).expect("json logs");
        assert_eq!(json.log_format, LogFormat::Json);
        assert!(parse(&["--log-format", "xml"]).is_err());
    }

    #[test]
    fn several_key_pairs() {
        let s = parse(&[
            "--access-key",
            "a",
            "--secret-key",
            "b",
            "--credentials",
            "c:d:e",
            "--credentials",
            "f:g",
        ])
        .expect("pairs");
        let keys: Vec<(&str, &str)> = s
            .credentials
            .iter()
            .map(|(a, s)| (a.as_str(), s.as_str()))
            .collect();
        assert_eq!(keys, [("a", "b"), ("c", "d:e"), ("f", "g")]);
        let only = parse(&["--listen", "0.0.0.0:9000", "--credentials", "c:d"]).expect("alone");
        assert_eq!(only.credentials.len(), 1);
        for bad in ["c", "c:", ":d", ""] {
            assert!(parse(&["--credentials", bad]).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn file_keys_are_the_flag_names() {
        let file =
            parse_file("data-dir = \"/srv/dg\"\nmax-delta-ratio = 0.4\ncache_size_mb = 64\n")
                .expect("both spellings");
        assert_eq!(file.data_dir, Some(PathBuf::from("/srv/dg")));
        assert_eq!(
            (file.max_delta_ratio, file.cache_size_mb),
            (Some(0.4), Some(64))
        );
        assert!(parse_file("data-dir = \"a\"\ndata_dir = \"b\"\n").is_err());
        assert!(parse_file("data-directory = \"a\"\n").is_err());
        let json = parse_file("log-format = \"json\"\n").expect("log format");
        assert_eq!(json.log_format, Some(LogFormat::Json));
        assert!(parse_file("log_format = \"xml\"\n").is_err());
    }
}
