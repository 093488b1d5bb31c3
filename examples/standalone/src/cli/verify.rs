//! `verify s3://bucket[/prefix]`: every object read back through the layer to its last
//! byte, so every check runs (a delta rebuilt and its SHA-256 compared, a chain of
//! references materialised, a whole object's recorded SHA-256); a report of what failed
//! and why, and a non-zero exit on any failure.

use serde_json::json;

use super::failures::{self, Failure};
use super::progress::Progress;
use super::store::{Read, Store, Target};

/// What `verify` found.
pub(crate) struct Report {
    pub(crate) checked: u64,
    pub(crate) bytes: u64,
    pub(crate) failures: Vec<Failure>,
}

/// Reads every object under `target`.
pub(crate) async fn run(store: &Store, target: &Target) -> Result<Report, String> {
    let objects = store.list(target, true).await?;
    let mut report = Report {
        checked: 0,
        bytes: 0,
        failures: Vec::new(),
    };
    let total: u64 = objects.iter().map(|o| o.size).sum();
    let mut progress = Progress::new("verified", objects.len() as u64, total);
    for object in &objects {
        match store.read(&target.bucket, &object.key).await? {
            Read::Whole(n, _) if n == object.size => report.bytes += n,
            Read::Whole(n, _) => report.failures.push((
                object.key.clone(),
                format!("{n} bytes read, the listing says {}", object.size),
            )),
            Read::Failed(why) => report.failures.push((object.key.clone(), why)),
        }
        report.checked += 1;
        progress.advance(object.size);
    }
    progress.finish();
    Ok(report)
}

impl Report {
    /// The report for a person.
    pub(crate) fn text(&self, target: &Target) -> String {
        let mut out = failures::lines(&self.failures, &format!("s3://{}/", target.bucket));
        out.push_str(&format!(
            "{} objects, {} bytes checked under s3://{}/{}: {} ok, {} failed\n",
            self.checked,
            self.bytes,
            target.bucket,
            target.prefix,
            self.checked - self.failures.len() as u64,
            self.failures.len()
        ));
        out
    }

    /// The report as JSON.
    pub(crate) fn json(&self, target: &Target) -> String {
        let failures = failures::json(&self.failures);
        json!({
            "bucket": target.bucket,
            "prefix": target.prefix,
            "checked": self.checked,
            "bytes": self.bytes,
            "failed": self.failures.len(),
            "failures": failures,
        })
        .to_string()
    }
}
