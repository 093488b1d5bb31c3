//! The commands beside the proxy, `deltaglider-proxy analyze|verify|stats|migrate|gc s3://…`:
//! they speak to any S3 endpoint with the usual AWS settings (`cli::aws`) and run the same
//! DeltaLayer in-process, so they read exactly what the proxy serves.

mod analyze;
mod aws;
mod failures;
mod gc;
mod migrate;
mod progress;
mod stats;
mod store;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use store::{Store, Target};

/// The commands, their names as the first argument.
pub(crate) const COMMANDS: [&str; 5] = ["analyze", "verify", "stats", "migrate", "gc"];

#[derive(Debug, Parser)]
#[command(name = "deltaglider-proxy", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    aws: aws::AwsArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Removes what nothing needs under s3://BUCKET[/PREFIX]: references no delta is
    /// encoded against and no needed reference is chained onto (older than
    /// --min-age-hours), and multipart uploads abandoned for --uploads-older-than-hours.
    Gc {
        /// s3://BUCKET[/PREFIX]
        target: Target,
        /// List what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Keep unused references younger than this many hours (a writer creates a
        /// reference moments before the delta naming it).
        #[arg(long, default_value_t = 24)]
        min_age_hours: u64,
        /// Abort multipart uploads started longer ago than this many hours.
        #[arg(long, default_value_t = 168)]
        uploads_older_than_hours: u64,
        /// One JSON document on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Estimates what delta storage would save on s3://BUCKET[/PREFIX] as it is (read
    /// only): the largest deltaspaces are sampled, a few objects each, and the samples
    /// really stored through the layer in a scratch backend; prints the estimate, its
    /// range, and what was read.
    Analyze {
        /// s3://BUCKET[/PREFIX]
        target: Target,
        /// Deltaspaces sampled, largest first.
        #[arg(long, default_value_t = 10)]
        groups: usize,
        /// Objects read from each sampled deltaspace, in key order.
        #[arg(long, default_value_t = 4)]
        per_group: usize,
        /// Most MiB read in all.
        #[arg(long, default_value_t = 1024)]
        max_read_mb: u64,
        /// One JSON document on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Reads every object under s3://BUCKET[/PREFIX] through the layer to its last byte:
    /// deltas rebuilt and checked by their SHA-256, references materialised. Lists what
    /// fails and why; exits 1 on any failure.
    Verify {
        /// s3://BUCKET[/PREFIX]
        target: Target,
        /// One JSON document on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Per deltaspace under s3://BUCKET[/PREFIX]: objects and their original bytes beside
    /// what is stored (deltas, references, objects stored whole), and the share saved.
    Stats {
        /// s3://BUCKET[/PREFIX]
        target: Target,
        /// One JSON document on standard output instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Copies every object under SOURCE to DESTINATION through the layer (a plain bucket,
    /// or a legacy DeltaGlider layout, becomes this layer's delta storage), keeping content
    /// types and user metadata; each object is read back and compared by SHA-256 before it
    /// counts. Objects already at DESTINATION (same size, and same ETag or SHA-256) are
    /// skipped, so an interrupted run resumes. Exits 1 on any failure.
    Migrate {
        /// s3://BUCKET[/PREFIX] to read
        source: Target,
        /// s3://BUCKET[/PREFIX] to write (may be the same: objects are rewritten in place)
        destination: Target,
        /// List what would be copied; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Leave out keys (relative to SOURCE) matching this pattern (`*`, `?`); repeatable.
        #[arg(long)]
        exclude: Vec<String>,
        /// SOURCE is on this endpoint, not the one the AWS settings name (the destination).
        #[arg(long)]
        source_endpoint_url: Option<String>,
        /// SOURCE's profile, when its endpoint or keys differ.
        #[arg(long)]
        source_profile: Option<String>,
        /// SOURCE's region, when it differs.
        #[arg(long)]
        source_region: Option<String>,
        /// One JSON document on standard output instead of text.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the command `args` name (`args[1]` is one of [`COMMANDS`]).
pub(crate) async fn main(args: Vec<String>) -> ExitCode {
    let cli = Cli::parse_from(args);
    let endpoint = match aws::resolve(&cli.aws, &env) {
        Ok(endpoint) => endpoint,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::new(&endpoint) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    match run(&store, cli.command).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("deltaglider-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The process's environment; an empty variable counts as unset, as the AWS CLI reads it.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Prints a report: JSON (one document) or text.
fn emit(json: bool, as_json: impl FnOnce() -> String, as_text: impl FnOnce() -> String) {
    if json {
        println!("{}", as_json());
    } else {
        print!("{}", as_text());
    }
}

/// The store `migrate` reads from when its source flags name another endpoint, profile or
/// region; `None` for the destination's own.
fn source_store(
    endpoint_url: Option<String>,
    profile: Option<String>,
    region: Option<String>,
) -> Result<Option<Store>, String> {
    if endpoint_url.is_none() && profile.is_none() && region.is_none() {
        return Ok(None);
    }
    let args = aws::AwsArgs {
        endpoint_url,
        profile,
        region,
    };
    Store::new(&aws::resolve(&args, &env)?).map(Some)
}

/// Runs `command`; whether everything it checked was sound.
async fn run(store: &Store, command: Command) -> Result<bool, String> {
    match command {
        Command::Verify { target, json } => {
            let report = verify::run(store, &target).await?;
            emit(json, || report.json(&target), || report.text(&target));
            Ok(report.failures.is_empty())
        }
        Command::Analyze {
            target,
            groups,
            per_group,
            max_read_mb,
            json,
        } => {
            let options = analyze::Options {
                groups,
                per_group: per_group.max(2),
                max_read: max_read_mb << 20,
            };
            let report = analyze::run(store, &target, &options).await?;
            emit(json, || report.json(&target), || report.text());
            Ok(true)
        }
        Command::Gc {
            target,
            dry_run,
            min_age_hours,
            uploads_older_than_hours,
            json,
        } => {
            let options = gc::Options {
                dry_run,
                min_age_secs: min_age_hours * 3600,
                uploads_age_secs: uploads_older_than_hours * 3600,
            };
            let report = gc::run(store, &target, &options).await?;
            emit(json, || report.json(dry_run), || report.text(dry_run));
            Ok(report.failures.is_empty())
        }
        Command::Migrate {
            source,
            destination,
            dry_run,
            exclude,
            source_endpoint_url,
            source_profile,
            source_region,
            json,
        } => {
            let options = migrate::Options { dry_run, exclude };
            let other = source_store(source_endpoint_url, source_profile, source_region)?;
            let ends = migrate::Ends {
                source: other.as_ref().unwrap_or(store),
                destination: store,
                same: other.is_none(),
            };
            let report = migrate::run(&ends, &source, &destination, &options).await?;
            emit(json, || report.json(dry_run), || report.text(dry_run));
            Ok(report.failures.is_empty())
        }
        Command::Stats { target, json } => {
            let report = stats::run(store, &target).await?;
            emit(json, || report.json(&target), || report.text());
            Ok(true)
        }
    }
}
