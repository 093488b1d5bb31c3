//! `migrate s3://SRC[/prefix] s3://DST[/prefix]`: every object under SRC copied to DST
//! through the layer, so that a plain bucket (or a legacy DeltaGlider layout, read as its
//! objects) ends up stored as deltas. Each object is read (rebuilt if it is a delta) while
//! it is written, keeps its content type and user metadata, and is read back through the
//! layer and compared by SHA-256 before it counts as done. Resumable: an object DST already
//! holds (same size and ETag, or the same SHA-256 where the ETags are not comparable) is
//! skipped; in place, an object already stored as a delta (or one the layer would not
//! encode) is. The source is never changed (to migrate
//! in place, give the same location twice: each object is rewritten over itself).

use serde_json::json;

use deltaglider::DeltaConfig;
use deltaglider::s3::listing::Object;

use super::failures::{self, Failure};
use super::progress::Progress;
use super::store::{Read, Store, Target};

/// Where objects are read and where they are written: one endpoint, or two.
pub(crate) struct Ends<'a> {
    pub(crate) source: &'a Store,
    pub(crate) destination: &'a Store,
    /// Both are the same endpoint (a migration may then be in place).
    pub(crate) same: bool,
}

/// What `migrate` was asked to leave out or only show.
pub(crate) struct Options {
    pub(crate) dry_run: bool,
    pub(crate) exclude: Vec<String>,
}

/// What `migrate` did.
#[derive(Default)]
pub(crate) struct Report {
    /// Copied and verified (with `--dry-run`: would be copied).
    pub(crate) copied: Vec<String>,
    pub(crate) bytes: u64,
    /// Already at the destination, same size and ETag.
    pub(crate) skipped: u64,
    /// Left out by `--exclude`.
    pub(crate) excluded: u64,
    pub(crate) failures: Vec<Failure>,
}

/// Copies what `from` holds to `to`.
pub(crate) async fn run(
    ends: &Ends<'_>,
    from: &Target,
    to: &Target,
    options: &Options,
) -> Result<Report, String> {
    let objects = ends.source.list(from, true).await?;
    let mut report = Report::default();
    let eligible = DeltaConfig::default();
    let total: u64 = objects.iter().map(|o| o.size).sum();
    let mut progress = Progress::new("migrated", objects.len() as u64, total);
    for object in &objects {
        progress.advance(object.size);
        let relative = object.key.strip_prefix(&from.prefix).unwrap_or(&object.key);
        if options.exclude.iter().any(|g| glob(g, relative)) {
            report.excluded += 1;
            continue;
        }
        let destination = format!("{}{relative}", to.prefix);
        let done = if ends.same && from.bucket == to.bucket && destination == object.key {
            // In place: done once the layer stores it as a delta, or would not.
            !eligible.is_eligible(&object.key)
                || ends.destination.is_delta(&to.bucket, &destination).await?
        } else {
            already_there(ends, (from, object), (&to.bucket, &destination)).await?
        };
        if done {
            report.skipped += 1;
            continue;
        }
        if !options.dry_run {
            let copied = copy_checked(
                ends,
                (&from.bucket, &object.key),
                (&to.bucket, &destination),
            );
            if let Err(why) = copied.await {
                report.failures.push((object.key.clone(), why));
                continue;
            }
        }
        report.copied.push(object.key.clone());
        report.bytes += object.size;
    }
    progress.finish();
    Ok(report)
}

/// Whether `to` already holds `object` of `from`: the same size, and the same ETag — or,
/// where the two ETags are not comparable (a legacy delta's, a multipart upload's, one not
/// listed), the same SHA-256, both read through the layer.
async fn already_there(
    ends: &Ends<'_>,
    (from, object): (&Target, &Object),
    to: (&str, &str),
) -> Result<bool, String> {
    let Some((size, etag)) = ends.destination.head(to.0, to.1).await? else {
        return Ok(false);
    };
    if size != object.size {
        return Ok(false);
    }
    if object.etag.as_deref() == Some(etag.as_str()) {
        return Ok(true);
    }
    let (Read::Whole(_, theirs), Read::Whole(_, ours)) = (
        ends.source.read(&from.bucket, &object.key).await?,
        ends.destination.read(to.0, to.1).await?,
    ) else {
        return Ok(false);
    };
    Ok(theirs == ours)
}

/// One copy, then the destination read back through the layer and compared.
async fn copy_checked(ends: &Ends<'_>, from: (&str, &str), to: (&str, &str)) -> Result<(), String> {
    let (len, sha256) = ends.destination.copy(ends.source, from, to).await?;
    match ends.destination.read(to.0, to.1).await? {
        Read::Whole(n, back) if n == len && back == sha256 => Ok(()),
        Read::Whole(n, back) => Err(format!(
            "read back {n} bytes with SHA-256 {back}, copied {len} with {sha256}"
        )),
        Read::Failed(why) => Err(format!("reading it back: {why}")),
    }
}

/// Whether `name` matches `pattern`, where `*` is any run of characters (`/` included, as
/// aws-cli's `--exclude` reads it) and `?` any one character.
fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                Some((sp, sn)) => {
                    pi = sp + 1;
                    ni = sn + 1;
                    star = Some((sp, sn + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

impl Report {
    /// The report for a person.
    pub(crate) fn text(&self, dry_run: bool) -> String {
        let mut out = failures::lines(&self.failures, "");
        if dry_run {
            for key in &self.copied {
                out.push_str(&format!("would copy {key}\n"));
            }
        }
        out.push_str(&format!(
            "{} {} ({} bytes), {} already there, {} excluded, {} failed\n",
            self.copied.len(),
            if dry_run {
                "to copy"
            } else {
                "copied and verified"
            },
            self.bytes,
            self.skipped,
            self.excluded,
            self.failures.len()
        ));
        out
    }

    /// The report as JSON.
    pub(crate) fn json(&self, dry_run: bool) -> String {
        let failures = failures::json(&self.failures);
        json!({
            "dry_run": dry_run,
            "copied": self.copied.len(),
            "keys": self.copied,
            "bytes": self.bytes,
            "skipped": self.skipped,
            "excluded": self.excluded,
            "failed": self.failures.len(),
            "failures": failures,
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_as_aws_cli_reads_them() {
        assert!(glob("*.log", "a/b.log"));
        assert!(glob("tmp/*", "tmp/x/y"));
        assert!(glob("v?.zip", "v1.zip"));
        assert!(!glob("v?.zip", "v10.zip"));
        assert!(glob("*", ""));
        assert!(!glob("*.log", "a.log.gz"));
        assert!(glob("*a*b*", "xxaxxbxx"));
    }
}
