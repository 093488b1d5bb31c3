//! `analyze s3://bucket[/prefix]`: a read-only estimate of what delta storage would save on
//! a bucket as it is. Objects are grouped by deltaspace (their prefix, where this layer
//! would keep their references); the largest groups are sampled — a few objects each, in
//! key order, read whole — and the samples are really stored, through the same DeltaLayer
//! with its default settings, in a scratch embedded backend. Each sampled group gives its
//! cost of a first version and its ratio for later ones; unsampled groups are assumed to
//! save as the sampled ones do on average (the range: as the worst and as the best).
//! Objects the layer would not encode (by extension) and groups of one count as stored
//! whole. Nothing is written to the bucket.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use deltaglider::keys;
use deltaglider::s3::listing::Object;
use deltaglider::{DeltaConfig, DeltaLayer};
use http::{Method, Request};
use http_body_util::Full;
use serde_json::json;
use tower::{Layer, ServiceExt};

use super::progress::Progress;
use super::store::{Store, Target};

/// How much to read.
pub(crate) struct Options {
    /// Groups sampled, largest first.
    pub(crate) groups: usize,
    /// Objects read per sampled group.
    pub(crate) per_group: usize,
    /// Most bytes read in all.
    pub(crate) max_read: u64,
}

/// The estimate.
#[derive(Default)]
pub(crate) struct Report {
    pub(crate) objects: u64,
    pub(crate) original: u64,
    pub(crate) groups: usize,
    pub(crate) sampled_groups: usize,
    pub(crate) sampled_objects: u64,
    pub(crate) read: u64,
    /// Estimated stored bytes: expected, and if unsampled groups did as the worst and the
    /// best sampled group.
    pub(crate) stored: (f64, f64, f64),
}

/// A sampled group's figures: bytes stored for its first sample, and stored / original of
/// the later samples.
struct Sampled {
    first: f64,
    ratio: f64,
}

/// Samples `target` and estimates.
pub(crate) async fn run(
    store: &Store,
    target: &Target,
    options: &Options,
) -> Result<Report, String> {
    let objects = store.list(target, true).await?;
    let config = DeltaConfig::default();
    let mut report = Report {
        objects: objects.len() as u64,
        original: objects.iter().map(|o| o.size).sum(),
        ..Report::default()
    };
    let mut groups: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    let mut whole = 0u64;
    for object in &objects {
        if config.is_eligible(&object.key) {
            groups
                .entry(keys::deltaspace(&object.key))
                .or_default()
                .push(object);
        } else {
            whole += object.size;
        }
    }
    report.groups = groups.len();
    let mut by_size: Vec<(&str, &Vec<&Object>)> = groups.iter().map(|(k, v)| (*k, v)).collect();
    by_size
        .sort_by_key(|(_, members)| std::cmp::Reverse(members.iter().map(|o| o.size).sum::<u64>()));
    let scratch = Scratch::new()?;
    let mut sampled: BTreeMap<&str, Sampled> = BTreeMap::new();
    let planned: Vec<&Object> = by_size
        .iter()
        .take(options.groups)
        .filter(|(_, members)| members.len() >= 2)
        .flat_map(|(_, members)| members.iter().take(options.per_group).copied())
        .collect();
    let wanted: u64 = planned.iter().map(|o| o.size).sum();
    let mut progress = Progress::new(
        "sampled",
        planned.len() as u64,
        wanted.min(options.max_read),
    );
    for (index, (space, members)) in by_size.iter().enumerate().take(options.groups) {
        let picks: Vec<&Object> = members.iter().take(options.per_group).copied().collect();
        if members.len() < 2
            || report.read + picks.iter().map(|o| o.size).sum::<u64>() > options.max_read
        {
            continue;
        }
        let group = scratch
            .sample(store, &target.bucket, index, &picks, &mut progress)
            .await?;
        report.read += picks.iter().map(|o| o.size).sum::<u64>();
        report.sampled_objects += picks.len() as u64;
        sampled.insert(space, group);
    }
    progress.finish();
    report.sampled_groups = sampled.len();
    report.stored = estimate(&groups, &sampled, whole);
    Ok(report)
}

/// Stored bytes of every group: sampled ones by their own figures, the others (with two
/// objects or more) by the sampled ratios' bytes-weighted mean, maximum (the worst case)
/// and minimum (the best).
fn estimate(
    groups: &BTreeMap<&str, Vec<&Object>>,
    sampled: &BTreeMap<&str, Sampled>,
    whole: u64,
) -> (f64, f64, f64) {
    let (mut weight, mut weighted) = (0f64, 0f64);
    let (mut lo, mut hi) = (f64::MAX, f64::MIN);
    for (space, s) in sampled {
        let bytes: u64 = groups[space].iter().map(|o| o.size).sum();
        weight += bytes as f64;
        weighted += s.ratio * bytes as f64;
        lo = lo.min(s.ratio);
        hi = hi.max(s.ratio);
    }
    let mean = if weight > 0.0 { weighted / weight } else { 1.0 };
    let (lo, hi) = if sampled.is_empty() {
        (1.0, 1.0)
    } else {
        (lo, hi)
    };
    let mut stored = (whole as f64, whole as f64, whole as f64);
    for (space, members) in groups {
        let bytes: u64 = members.iter().map(|o| o.size).sum();
        let first = members.first().map_or(0, |o| o.size) as f64;
        let rest = bytes as f64 - first;
        if let Some(s) = sampled.get(space) {
            let own = s.first + s.ratio * (bytes as f64 - first);
            stored = (stored.0 + own, stored.1 + own, stored.2 + own);
        } else if members.len() < 2 {
            let b = bytes as f64;
            stored = (stored.0 + b, stored.1 + b, stored.2 + b);
        } else {
            stored.0 += first + mean * rest;
            stored.1 += first + hi * rest;
            stored.2 += first + lo * rest;
        }
    }
    stored
}

/// A scratch embedded backend the samples are stored in, removed when dropped.
struct Scratch {
    root: PathBuf,
    layer: DeltaLayer,
}

impl Scratch {
    fn new() -> Result<Self, String> {
        let root = std::env::temp_dir().join(format!("deltaglider-analyze-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sample"))
            .map_err(|e| format!("{}: {e}", root.display()))?;
        Ok(Self {
            root,
            layer: DeltaLayer::new(DeltaConfig::default()),
        })
    }

    /// Reads `picks` from the bucket and stores them, in order, as deltaspace `g<index>/`.
    async fn sample(
        &self,
        store: &Store,
        bucket: &str,
        index: usize,
        picks: &[&Object],
        progress: &mut Progress,
    ) -> Result<Sampled, String> {
        let fs =
            s3s_fs::FileSystem::new(&self.root).map_err(|e| format!("scratch backend: {e:?}"))?;
        let service = self
            .layer
            .layer(s3s::service::S3ServiceBuilder::new(fs).build());
        let space = self.root.join("sample").join(format!("g{index}"));
        let (mut first, mut original_later, mut stored_later) = (0u64, 0u64, 0u64);
        for (n, object) in picks.iter().enumerate() {
            let bytes = store.fetch(bucket, &object.key).await?;
            progress.advance(bytes.len() as u64);
            let name = object.key.rsplit('/').next().unwrap_or(&object.key);
            let request = Request::builder()
                .method(Method::PUT)
                .uri(format!(
                    "/sample/g{index}/{}",
                    percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC)
                ))
                .header(http::header::HOST, "scratch")
                .header(http::header::CONTENT_LENGTH, bytes.len())
                .body(Full::new(bytes.clone()))
                .map_err(|e| e.to_string())?;
            let response = service
                .clone()
                .oneshot(request)
                .await
                .map_err(|e| format!("{e:?}"))?;
            if !response.status().is_success() {
                return Err(format!(
                    "storing a sample of {}: {}",
                    object.key,
                    response.status()
                ));
            }
            let now = stored_bytes(&space);
            if n == 0 {
                first = now;
            } else {
                original_later += bytes.len() as u64;
                stored_later = now - first;
            }
        }
        let ratio = if original_later == 0 {
            1.0
        } else {
            stored_later as f64 / original_later as f64
        };
        Ok(Sampled {
            first: first as f64,
            ratio,
        })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Bytes of the files in `dir` (not s3s-fs's hidden metadata).
fn stored_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.metadata().map_or(0, |m| m.len()))
                .sum()
        })
        .unwrap_or(0)
}

impl Report {
    fn percent(&self, stored: f64) -> f64 {
        if self.original == 0 {
            return 0.0;
        }
        100.0 * (1.0 - stored / self.original as f64)
    }

    /// The estimate for a person.
    pub(crate) fn text(&self) -> String {
        let (expected, worst, best) = self.stored;
        format!(
            "Potential savings: {:.1} % ({:.1}–{:.1} % if the unsampled groups save like the \
             worst and the best sampled one)\n{} objects, {:.1} MB in {} deltaspaces; sampled \
             {} objects ({:.1} MB read) from {} of them, stored through the layer in a scratch \
             backend\n",
            self.percent(expected),
            self.percent(worst),
            self.percent(best),
            self.objects,
            self.original as f64 / 1e6,
            self.groups,
            self.sampled_objects,
            self.read as f64 / 1e6,
            self.sampled_groups,
        )
    }

    /// The estimate as JSON.
    pub(crate) fn json(&self, target: &Target) -> String {
        let (expected, worst, best) = self.stored;
        json!({
            "bucket": target.bucket,
            "prefix": target.prefix,
            "objects": self.objects,
            "original_bytes": self.original,
            "deltaspaces": self.groups,
            "sampled_deltaspaces": self.sampled_groups,
            "sampled_objects": self.sampled_objects,
            "read_bytes": self.read,
            "estimated_stored_bytes": expected.round() as u64,
            "savings_percent": self.percent(expected),
            "savings_percent_range": [self.percent(worst), self.percent(best)],
        })
        .to_string()
    }
}
