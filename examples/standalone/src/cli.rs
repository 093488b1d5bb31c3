//! The commands beside the proxy, `deltaglider-proxy verify|stats s3://bucket[/prefix]`:
//! they speak to any S3 endpoint with the usual AWS settings (`cli::aws`) and run the same
//! DeltaLayer in-process, so they read exactly what the proxy serves.

mod aws;
mod progress;
mod stats;
mod store;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use store::{Store, Target};

/// The commands, their names as the first argument.
pub(crate) const COMMANDS: [&str; 2] = ["verify", "stats"];

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
}

/// Runs the command `args` name (`args[1]` is one of [`COMMANDS`]).
pub(crate) async fn main(args: Vec<String>) -> ExitCode {
    let cli = Cli::parse_from(args);
    // An empty variable counts as unset, as the AWS CLI reads it.
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
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

/// Runs `command`; whether everything it checked was sound.
async fn run(store: &Store, command: Command) -> Result<bool, String> {
    match command {
        Command::Verify { target, json } => {
            let report = verify::run(store, &target).await?;
            if json {
                println!("{}", report.json(&target));
            } else {
                print!("{}", report.text(&target));
            }
            Ok(report.failures.is_empty())
        }
        Command::Stats { target, json } => {
            let report = stats::run(store, &target).await?;
            if json {
                println!("{}", report.json(&target));
            } else {
                print!("{}", report.text());
            }
            Ok(true)
        }
    }
}
