//! Where the layer looks up the secret of an access key.

use std::collections::HashMap;
use std::fmt;

use crate::compat::MaybeSend;

/// Looks up the secret access key of an access key id.
///
/// Implemented by [`StaticCredentials`] and by closures `Fn(&str) -> Option<String>`.
/// Lookups are synchronous: load keys from slow stores ahead of time.
pub trait CredentialStore: MaybeSend + Sync + 'static {
    /// The secret of `access_key_id`, or `None` when the key is unknown.
    fn secret_key(&self, access_key_id: &str) -> Option<String>;
}

impl<F> CredentialStore for F
where
    F: Fn(&str) -> Option<String> + MaybeSend + Sync + 'static,
{
    fn secret_key(&self, access_key_id: &str) -> Option<String> {
        self(access_key_id)
    }
}

/// A fixed set of access keys and their secrets, backed by a `HashMap`.
///
/// `Debug` lists the access key ids only, never the secrets.
///
/// ```
/// use deltaglider::sigv4::{CredentialStore, StaticCredentials};
/// let keys = StaticCredentials::new().with("AKIDEXAMPLE", "secret");
/// assert_eq!(keys.secret_key("AKIDEXAMPLE").as_deref(), Some("secret"));
/// assert_eq!(keys.secret_key("other"), None);
/// ```
#[derive(Clone, Default)]
pub struct StaticCredentials {
    keys: HashMap<String, String>,
}

impl StaticCredentials {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a key, builder style.
    pub fn with(mut self, access_key_id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.insert(access_key_id, secret);
        self
    }

    /// Adds (or replaces) a key; returns the previous secret.
    pub fn insert(
        &mut self,
        access_key_id: impl Into<String>,
        secret: impl Into<String>,
    ) -> Option<String> {
        self.keys.insert(access_key_id.into(), secret.into())
    }

    /// Removes a key; returns its secret.
    pub fn remove(&mut self, access_key_id: &str) -> Option<String> {
        self.keys.remove(access_key_id)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether there are no keys.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl CredentialStore for StaticCredentials {
    fn secret_key(&self, access_key_id: &str) -> Option<String> {
        self.keys.get(access_key_id).cloned()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for StaticCredentials {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self {
            keys: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl From<HashMap<String, String>> for StaticCredentials {
    fn from(keys: HashMap<String, String>) -> Self {
        Self { keys }
    }
}

impl fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ids: Vec<&str> = self.keys.keys().map(String::as_str).collect();
        ids.sort_unstable();
        f.debug_struct("StaticCredentials")
            .field("access_key_ids", &ids)
            .finish_non_exhaustive()
    }
}
