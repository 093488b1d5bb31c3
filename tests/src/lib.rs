//! Helpers for tests that drive real external tools (the `xdelta3` command, S3 clients).
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `program` with `args`, panicking with its stderr unless it exits with status 0.
/// A missing program is a failure, not a skip: `.ci/run` installs every tool it needs.
pub fn run(program: &str, args: &[&Path]) -> Vec<u8> {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {program} (is it installed? .ci/run installs it): {e}")
        });
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub mod s3;
pub mod scenario;

/// A fresh directory under the target directory, removed and recreated.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-scratch")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}
