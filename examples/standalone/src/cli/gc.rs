//! `gc s3://bucket[/prefix]`: removes what no object needs — references that no delta is
//! encoded against and no other reference is chained onto (left by a crash between a
//! reference and its delta, or by other tools), and multipart uploads abandoned long ago
//! (parts of client uploads and of large deltas spilled by the layer). With `--dry-run`,
//! only lists them.
//!
//! A reference is removed only when it is older than `--min-age-hours` (a writer creates a
//! reference moments before the delta that names it) and when a second look at its
//! deltaspace, just before the removal, finds no new delta or reference naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use deltaglider::keys::{self, DELTA_SUFFIX};
use deltaglider::meta::ObjectMeta;
use deltaglider::s3::listing::Object;
use serde_json::json;

use super::failures::{self, Failure};
use super::store::{Store, Target};

/// How old things must be before they go.
pub(crate) struct Options {
    pub(crate) dry_run: bool,
    pub(crate) min_age_secs: u64,
    pub(crate) uploads_age_secs: u64,
}

/// What `gc` removed (or, with `--dry-run`, would remove).
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) references: Vec<(String, u64)>,
    /// Unused but younger than `--min-age-hours`: kept.
    pub(crate) young: u64,
    pub(crate) uploads: Vec<(String, String)>,
    /// Whether the backend listed its multipart uploads (s3s-fs cannot).
    pub(crate) uploads_listed: bool,
    pub(crate) failures: Vec<Failure>,
}

/// Collects (and removes) what `target` holds that nothing needs.
pub(crate) async fn run(
    store: &Store,
    target: &Target,
    options: &Options,
) -> Result<Report, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut report = Report::default();
    let stored = store.list(target, false).await?;
    let mut spaces: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    for object in &stored {
        let key = object.key.strip_suffix(DELTA_SUFFIX).unwrap_or(&object.key);
        spaces
            .entry(keys::deltaspace(key))
            .or_default()
            .push(object);
    }
    for (space, objects) in spaces {
        if !objects.iter().any(|o| keys::is_reference(&o.key)) {
            continue;
        }
        for reference in unused(store, &target.bucket, &objects).await? {
            let age = age_of(reference, now);
            if age.is_none_or(|age| age < options.min_age_secs) {
                report.young += 1;
                continue;
            }
            // A second look: a writer may have named it since the first.
            let again = Target {
                bucket: target.bucket.clone(),
                prefix: space.to_owned(),
            };
            let fresh = store.list(&again, false).await?;
            let fresh: Vec<&Object> = fresh
                .iter()
                .filter(|o| {
                    keys::deltaspace(o.key.strip_suffix(DELTA_SUFFIX).unwrap_or(&o.key)) == space
                })
                .collect();
            if !unused(store, &target.bucket, &fresh)
                .await?
                .iter()
                .any(|o| o.key == reference.key)
            {
                continue;
            }
            if !options.dry_run
                && let Err(why) = store.delete_raw(&target.bucket, &reference.key).await
            {
                report.failures.push((reference.key.clone(), why));
                continue;
            }
            report
                .references
                .push((reference.key.clone(), reference.size));
        }
    }
    let uploads = store.uploads(target).await?;
    report.uploads_listed = uploads.is_some();
    for (key, upload, initiated) in uploads.unwrap_or_default() {
        let age = parse_rfc3339(&initiated).map(|t| now.saturating_sub(t));
        if age.is_none_or(|age| age < options.uploads_age_secs) {
            continue;
        }
        if !options.dry_run
            && let Err(why) = store.abort_upload(&target.bucket, &key, &upload).await
        {
            report.failures.push((key, why));
            continue;
        }
        report.uploads.push((key, upload));
    }
    Ok(report)
}

/// The references among `objects` (one deltaspace, as stored) that no delta names and no
/// needed reference is chained onto. Metadata is read as the layer reads it (every format
/// version, the Python CLI's names too); a delta whose metadata does not parse keeps every
/// reference of its deltaspace.
async fn unused<'o>(
    store: &Store,
    bucket: &str,
    objects: &[&'o Object],
) -> Result<Vec<&'o Object>, String> {
    let mut needed: BTreeSet<String> = BTreeSet::new();
    let mut bases: BTreeMap<String, String> = BTreeMap::new();
    for object in objects {
        let delta = object.key.ends_with(DELTA_SUFFIX);
        if !delta && !keys::is_reference(&object.key) {
            continue;
        }
        let Some(headers) = store.raw_headers(bucket, &object.key).await? else {
            continue;
        };
        let get = |name: &str| {
            headers
                .get(format!("x-amz-meta-{name}"))
                .and_then(|v| v.to_str().ok())
        };
        let named = match ObjectMeta::parse(&object.key, get) {
            Ok(meta) => meta.reference.map(|r| r.key),
            Err(_) if delta => return Ok(Vec::new()),
            Err(_) => None,
        };
        match named {
            Some(reference) if delta => {
                needed.insert(reference);
            }
            Some(base) => {
                bases.insert(object.key.clone(), base);
            }
            None => {}
        }
    }
    // Every base down each needed chain is needed too.
    let mut walk: Vec<String> = needed.iter().cloned().collect();
    while let Some(key) = walk.pop() {
        if let Some(base) = bases.get(&key)
            && needed.insert(base.clone())
        {
            walk.push(base.clone());
        }
    }
    Ok(objects
        .iter()
        .filter(|o| keys::is_reference(&o.key) && !needed.contains(&o.key))
        .copied()
        .collect())
}

/// Seconds since `object` was last modified, if the listing says.
fn age_of(object: &Object, now: u64) -> Option<u64> {
    let at = parse_rfc3339(object.last_modified.as_deref()?)?;
    Some(now.saturating_sub(at))
}

/// Unix seconds of `2026-12-06T14:35:45(.123)Z` (a fraction and an offset are ignored:
/// ages here are counted in hours).
fn parse_rfc3339(text: &str) -> Option<u64> {
    let (date, time) = text.get(..19)?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3_600 + min * 60 + s).ok()
}

impl Report {
    /// The report for a person.
    pub(crate) fn text(&self, dry_run: bool) -> String {
        let verb = if dry_run { "would remove" } else { "removed" };
        let mut out = failures::lines(&self.failures, "");
        for (key, size) in &self.references {
            out.push_str(&format!("{verb} unused reference {key} ({size} bytes)\n"));
        }
        for (key, upload) in &self.uploads {
            out.push_str(&format!("{verb} abandoned upload of {key} ({upload})\n"));
        }
        if !self.uploads_listed {
            out.push_str("the backend does not list multipart uploads: none looked at\n");
        }
        let bytes: u64 = self.references.iter().map(|(_, s)| s).sum();
        out.push_str(&format!(
            "{} unused references ({bytes} bytes) and {} abandoned uploads {}; {} unused but \
             too recent, kept; {} failed\n",
            self.references.len(),
            self.uploads.len(),
            if dry_run { "to remove" } else { "removed" },
            self.young,
            self.failures.len()
        ));
        out
    }

    /// The report as JSON.
    pub(crate) fn json(&self, dry_run: bool) -> String {
        let references: Vec<_> = self
            .references
            .iter()
            .map(|(key, size)| json!({ "key": key, "bytes": size }))
            .collect();
        let uploads: Vec<_> = self
            .uploads
            .iter()
            .map(|(key, id)| json!({ "key": key, "upload_id": id }))
            .collect();
        json!({
            "dry_run": dry_run,
            "references": references,
            "uploads": uploads,
            "uploads_listed": self.uploads_listed,
            "young_kept": self.young,
            "failed": self.failures.len(),
            "failures": failures::json(&self.failures),
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339;

    #[test]
    fn rfc3339_times() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00.000Z"), Some(951_868_800));
        assert_eq!(
            parse_rfc3339("2026-12-06T14:35:45.123Z"),
            Some(1_796_567_745)
        );
        assert_eq!(
            parse_rfc3339("2026-12-06T14:35:45+00:00"),
            Some(1_796_567_745)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
