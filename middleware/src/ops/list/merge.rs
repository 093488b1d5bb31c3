//! Merging backend listing pages into a page of user keys: reference keys left out,
//! `.delta` suffixes removed, both stored forms of a key made one entry, keys grouped
//! by the delimiter, and each entry released only once nothing still to come can sort
//! before it ([`super::order`]).

use std::collections::BTreeMap;

use super::order;
use super::params::Params;
use crate::s3::error::S3Error;
use crate::s3::listing::{self, Object, Page};
use crate::stored::keys::{self, DELTA_SUFFIX};

/// An object as the layer lists it: the backend's entry under its user key, with what its
/// stored key said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Listed {
    /// The backend's entry, keyed by the user key.
    pub(super) object: Object,
    /// Stored as `<key>.delta`: its size and ETag come from its metadata.
    pub(super) delta: bool,
    /// On a delta entry, the backend's `<key>` when it was listed too: which of the two is
    /// current is decided from their metadata (`crate::stored::current`).
    pub(super) whole_twin: Option<Box<Object>>,
}

/// One entry of the layer's listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Entry {
    /// An object.
    Object(Listed),
    /// A common prefix.
    Prefix(String),
}

impl Entry {
    /// The user key or prefix the entry sorts by.
    pub(super) fn name(&self) -> &str {
        match self {
            Self::Object(o) => &o.object.key,
            Self::Prefix(p) => p,
        }
    }

    /// The entry as the response lists it.
    pub(super) fn into_listing(self) -> listing::Entry {
        match self {
            Self::Object(o) => listing::Entry::Object(o.object),
            Self::Prefix(p) => listing::Entry::Prefix(p),
        }
    }
}

/// A client page being assembled from backend pages.
pub(super) struct Merge<'p> {
    params: &'p Params,
    /// The user key after which the client's page starts.
    resume: Option<String>,
    /// Entries in their final order.
    ready: Vec<Entry>,
    /// Entries that a stored key still to come may sort before.
    pending: BTreeMap<String, Entry>,
    /// The backend's continuation token of its next page.
    token: Option<String>,
    /// The backend has no more pages.
    exhausted: bool,
}

impl<'p> Merge<'p> {
    /// Starts a page after the user key `resume`.
    pub(super) fn new(params: &'p Params, resume: Option<String>) -> Self {
        Self {
            params,
            resume,
            ready: Vec::new(),
            pending: BTreeMap::new(),
            token: None,
            exhausted: params.max_keys == 0,
        }
    }

    /// Whether to fetch another backend page. One backend page per client page: with more
    /// backend keys to come, the client gets what is ready (S3 pages may hold fewer than
    /// max-keys entries) rather than wait for another backend page only to learn whether
    /// this one is truncated.
    pub(super) fn wants_page(&self) -> bool {
        !self.exhausted && self.ready.is_empty()
    }

    /// Where the next backend page starts: its continuation token, else after this user key.
    pub(super) fn position(&self) -> (Option<&str>, Option<&str>) {
        (self.token.as_deref(), self.resume.as_deref())
    }

    /// Takes in one backend page.
    pub(super) fn take(&mut self, page: Page) -> Result<(), S3Error> {
        let cursor = page
            .objects
            .last()
            .map(|o| o.key.clone())
            .into_iter()
            .chain(page.prefixes.last().cloned())
            .max();
        // Nothing at or before the resume point or the last entry already taken: the
        // same common prefix can roll up keys from several backend pages.
        let floor = self
            .ready
            .last()
            .map(|e| e.name().to_owned())
            .or_else(|| self.resume.clone());
        let objects = page.objects.into_iter().filter_map(|o| self.entry(o));
        // The savings ledger's folder is the layer's, like references.
        let prefixes = page
            .prefixes
            .into_iter()
            .filter(|p| !p.starts_with(keys::LEDGER_PREFIX))
            .map(Entry::Prefix);
        for entry in objects.chain(prefixes).collect::<Vec<_>>() {
            admit(&mut self.pending, entry, floor.as_deref());
        }
        match (page.truncated, page.next_token) {
            (true, Some(t)) => self.token = Some(t),
            (true, None) => {
                return Err(S3Error::internal(
                    "backend listing truncated without a token",
                ));
            }
            (false, _) => self.exhausted = true,
        }
        // Entries below the bound can no longer be preceded by anything still to come.
        let bound = match (&cursor, self.exhausted) {
            (Some(c), false) => Some(order::lower_bound(c).to_owned()),
            _ => None,
        };
        while let Some(entry) = self.pending.first_entry() {
            if bound.as_ref().is_some_and(|b| entry.key() >= b) {
                break;
            }
            self.ready.push(entry.remove());
        }
        Ok(())
    }

    /// The entry a backend object makes, if any: none for references and keys outside
    /// the prefix; a common prefix when the delimiter occurs after the prefix.
    fn entry(&self, object: Object) -> Option<Entry> {
        if keys::is_reference(&object.key) || object.key.starts_with(keys::LEDGER_PREFIX) {
            return None;
        }
        let (user, delta) = match object.key.strip_suffix(DELTA_SUFFIX) {
            Some(user) => (user.to_owned(), true),
            None => (object.key.clone(), false),
        };
        let prefix = &self.params.prefix;
        if !user.starts_with(prefix.as_str()) {
            return None;
        }
        Some(
            match group(&user, prefix, self.params.delimiter.as_deref()) {
                Some(prefix) => Entry::Prefix(prefix),
                None => Entry::Object(Listed {
                    object: Object {
                        key: user,
                        ..object
                    },
                    delta,
                    whole_twin: None,
                }),
            },
        )
    }

    /// The client's page, and the user key the next page starts after when truncated.
    pub(super) fn finish(self) -> (Vec<Entry>, Option<String>) {
        let max_keys = self.params.max_keys;
        let mut ready = self.ready;
        let truncated = ready.len() > max_keys || !self.pending.is_empty() || !self.exhausted;
        ready.truncate(max_keys);
        let last = truncated
            .then(|| ready.last().map(|e| e.name().to_owned()))
            .flatten();
        (ready, last)
    }
}

/// Adds an entry unless it is at or before `floor`. Both stored forms of one key become
/// one delta entry holding the other as its twin.
fn admit(pending: &mut BTreeMap<String, Entry>, entry: Entry, floor: Option<&str>) {
    if floor.is_some_and(|f| entry.name() <= f) {
        return;
    }
    let name = entry.name().to_owned();
    let entry = match (pending.remove(&name), entry) {
        (Some(Entry::Object(old)), Entry::Object(new)) if old.delta != new.delta => {
            let (mut delta, whole) = if old.delta { (old, new) } else { (new, old) };
            delta.whole_twin = Some(Box::new(whole.object));
            Entry::Object(delta)
        }
        (_, entry) => entry,
    };
    pending.insert(name, entry);
}

/// The common prefix `key` rolls up into, if the delimiter occurs after the prefix.
fn group(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter?;
    let rest = &key[prefix.len()..];
    rest.find(d)
        .map(|i| format!("{prefix}{}", &rest[..i + d.len()]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(group("a/b/c", "", Some("/")).as_deref(), Some("a/"));
        assert_eq!(group("a/b/c", "a/", Some("/")).as_deref(), Some("a/b/"));
        assert_eq!(group("a/b", "a/", Some("/")), None);
        assert_eq!(group("a.b.c", "", Some(".")).as_deref(), Some("a."));
        assert_eq!(group("abc", "", None), None);
    }

    fn page(keys: &[&str], next: Option<&str>) -> Page {
        Page {
            objects: keys
                .iter()
                .map(|k| Object {
                    key: (*k).to_owned(),
                    ..Object::default()
                })
                .collect(),
            prefixes: Vec::new(),
            truncated: next.is_some(),
            next_token: next.map(str::to_owned),
        }
    }

    fn names(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(Entry::name).collect()
    }

    #[test]
    fn entries_wait_for_keys_that_sort_before_them() {
        let params = Params::parse("", true).expect("valid");
        let mut merge = Merge::new(&params, None);
        assert!(merge.wants_page());
        // v1.delta (user key v1) may still follow v1.2.delta: nothing is ready yet.
        merge
            .take(page(&["reference.bin", "v1.2.delta"], Some("t1")))
            .expect("page");
        assert!(merge.wants_page());
        assert_eq!(merge.position(), (Some("t1"), None));
        merge
            .take(page(&["v1.delta", "v1.zip"], None))
            .expect("page");
        assert!(!merge.wants_page());
        let (entries, last) = merge.finish();
        assert_eq!(names(&entries), ["v1", "v1.2", "v1.zip"]);
        assert_eq!(last, None);
        let Entry::Object(v1) = &entries[0] else {
            panic!("an object");
        };
        assert!(v1.delta && v1.whole_twin.is_none());
    }

    #[test]
    fn both_forms_of_a_key_are_one_entry_and_pages_stop_at_max_keys() {
        let params = Params::parse("max-keys=1&delimiter=/", true).expect("valid");
        let mut merge = Merge::new(&params, Some("a".into()));
        merge
            .take(page(&["a", "b", "b.delta", "c/x.delta", "c/y"], None))
            .expect("page");
        let (entries, last) = merge.finish();
        assert_eq!(names(&entries), ["b"]);
        assert_eq!(last.as_deref(), Some("b"));
        let Entry::Object(b) = &entries[0] else {
            panic!("an object");
        };
        assert!(b.delta);
        assert_eq!(b.whole_twin.as_ref().map(|w| w.key.as_str()), Some("b"));
        assert!(Merge::new(&params, None).take(page(&[], None)).is_ok());
        let truncated_without_token = Page {
            truncated: true,
            ..Page::default()
        };
        assert!(
            Merge::new(&params, None)
                .take(truncated_without_token)
                .is_err()
        );
    }
}
