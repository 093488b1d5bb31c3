//! `stats s3://bucket[/prefix]`: per deltaspace, the objects clients see (count, original
//! bytes, from a listing through the layer) beside what the backend holds for them
//! (deltas, references, objects stored whole, from a listing of the stored layout), and
//! what that saves.

use std::collections::BTreeMap;

use deltaglider::keys::{self, DELTA_SUFFIX};
use serde_json::json;

use super::store::{Store, Target};

/// One deltaspace's figures.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Space {
    pub(crate) objects: u64,
    pub(crate) original: u64,
    pub(crate) deltas: (u64, u64),
    pub(crate) references: (u64, u64),
    pub(crate) whole: (u64, u64),
}

impl Space {
    /// Bytes the backend holds for the deltaspace.
    pub(crate) fn stored(&self) -> u64 {
        self.deltas.1 + self.references.1 + self.whole.1
    }

    fn add(&mut self, other: &Space) {
        self.objects += other.objects;
        self.original += other.original;
        for (a, b) in [
            (&mut self.deltas, other.deltas),
            (&mut self.references, other.references),
            (&mut self.whole, other.whole),
        ] {
            a.0 += b.0;
            a.1 += b.1;
        }
    }
}

/// Figures by deltaspace, and their sum.
pub(crate) struct Report {
    pub(crate) spaces: BTreeMap<String, Space>,
    pub(crate) total: Space,
}

/// Lists `target` both ways and adds up.
pub(crate) async fn run(store: &Store, target: &Target) -> Result<Report, String> {
    let seen = store.list(target, true).await?;
    let stored = store.list(target, false).await?;
    let mut spaces: BTreeMap<String, Space> = BTreeMap::new();
    for object in &seen {
        let space = spaces
            .entry(keys::deltaspace(&object.key).to_owned())
            .or_default();
        space.objects += 1;
        space.original += object.size;
    }
    for object in &stored {
        let key = object.key.strip_suffix(DELTA_SUFFIX).unwrap_or(&object.key);
        let space = spaces.entry(keys::deltaspace(key).to_owned()).or_default();
        let slot = if object.key.ends_with(DELTA_SUFFIX) {
            &mut space.deltas
        } else if keys::is_reference(&object.key) {
            &mut space.references
        } else {
            &mut space.whole
        };
        slot.0 += 1;
        slot.1 += object.size;
    }
    let mut total = Space::default();
    for space in spaces.values() {
        total.add(space);
    }
    Ok(Report { spaces, total })
}

/// Share of the original bytes not stored.
fn savings(space: &Space) -> f64 {
    if space.original == 0 {
        return 0.0;
    }
    100.0 * (1.0 - space.stored() as f64 / space.original as f64)
}

impl Report {
    /// A table for a person.
    pub(crate) fn text(&self) -> String {
        let mut out = format!(
            "{:<40} {:>8} {:>14} {:>14} {:>10} {:>8}\n",
            "deltaspace", "objects", "original", "stored", "references", "saved"
        );
        let rows = self.spaces.iter().map(|(k, v)| (k.as_str(), v));
        for (name, space) in rows.chain([("(total)", &self.total)]) {
            let name = if name.is_empty() { "(root)" } else { name };
            out.push_str(&format!(
                "{name:<40} {:>8} {:>14} {:>14} {:>10} {:>7.1}%\n",
                space.objects,
                space.original,
                space.stored(),
                space.references.0,
                savings(space)
            ));
        }
        out
    }

    /// The figures as JSON.
    pub(crate) fn json(&self, target: &Target) -> String {
        let row = |space: &Space| {
            json!({
                "objects": space.objects,
                "original_bytes": space.original,
                "stored_bytes": space.stored(),
                "deltas": { "count": space.deltas.0, "bytes": space.deltas.1 },
                "references": { "count": space.references.0, "bytes": space.references.1 },
                "whole": { "count": space.whole.0, "bytes": space.whole.1 },
                "saved_percent": savings(space),
            })
        };
        let spaces: serde_json::Map<String, serde_json::Value> = self
            .spaces
            .iter()
            .map(|(name, space)| (name.clone(), row(space)))
            .collect();
        json!({
            "bucket": target.bucket,
            "prefix": target.prefix,
            "deltaspaces": spaces,
            "total": row(&self.total),
        })
        .to_string()
    }
}
