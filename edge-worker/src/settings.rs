//! What the Worker is configured with: Worker vars and secrets, read once per isolate.

use deltaglider::DeltaConfig;

/// A setting that is present but not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("setting {name} = {value:?} is invalid: {reason}")]
pub struct SettingsError {
    /// The variable's name.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// The Worker's settings.
///
/// | Variable | Default | Meaning |
/// |---|---|---|
/// | `DELTAGLIDER_BUCKET` | `deltaglider` | the S3 bucket name clients use for the bound R2 bucket |
/// | `DELTAGLIDER_ACCESS_KEY`, `DELTAGLIDER_SECRET_KEY` | none | the one client credential (secrets) |
/// | `DELTAGLIDER_ALLOW_ANONYMOUS` | `false` | let unsigned requests through (never with keys unset by accident: both must be explicit) |
/// | `DELTAGLIDER_REGION` | any | the region client signatures must name |
/// | `DELTAGLIDER_MAX_DELTA_RATIO` | `0.5` | store as a delta only below this delta/original ratio |
/// | `DELTAGLIDER_MAX_OBJECT_SIZE` | 8 MiB | eligible objects larger than this are stored whole |
/// | `DELTAGLIDER_CACHE_BYTES` | 0 | references kept in the isolate's memory between requests |
/// | `DELTAGLIDER_GZIP_PAYLOADS` | `false` | store gzip uploads as payload deltas (CPU-heavy: about a second of CPU per 10 MB of payload); reading them is always on |
/// | `DELTAGLIDER_MAX_PAYLOAD_SIZE` | 32 MiB | the largest decompressed gzip payload handled (reading a payload delta rebuilds it in memory) |
/// | `DELTAGLIDER_RAW` | `false` | serve the bucket as stored, without the `DeltaLayer` (deltas, references and DeltaGlider metadata visible): for inspection and interoperability tests |
///
/// Without credentials and without `DELTAGLIDER_ALLOW_ANONYMOUS=true`, every request is
/// refused: a deployment that forgot its secrets is closed, not open.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// The S3 bucket name served.
    pub bucket: String,
    /// Access key and secret key of the one client credential.
    pub credentials: Option<(String, String)>,
    /// Whether unsigned requests pass.
    pub allow_anonymous: bool,
    /// The region signatures must name, if any.
    pub region: Option<String>,
    /// See [`DeltaConfig::max_delta_ratio`].
    pub max_delta_ratio: f64,
    /// See [`DeltaConfig::max_object_size`].
    pub max_object_size: u64,
    /// See [`DeltaConfig::cache_bytes`].
    pub cache_bytes: u64,
    /// See [`DeltaConfig::gzip_payloads`].
    pub gzip_payloads: bool,
    /// See [`DeltaConfig::max_payload_size`].
    pub max_payload_size: u64,
    /// Serve the stored objects as they are, without the layer.
    pub raw: bool,
}

/// Eligible objects up to this size are encoded. A PUT holds the client's body as it is
/// collected, the reference, the encoder's hash tables, the delta and the verifying decode
/// at once: measured in local workerd, the WebAssembly memory peaks at about 30 MiB plus
/// eight times the object size (94 MiB for 8 MiB objects), and it never shrinks. A Worker
/// has 128 MB for WebAssembly and JavaScript together.
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 8 << 20;

impl Default for Settings {
    fn default() -> Self {
        Self {
            bucket: "deltaglider".to_owned(),
            credentials: None,
            allow_anonymous: false,
            region: None,
            max_delta_ratio: 0.5,
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            cache_bytes: 0,
            gzip_payloads: false,
            max_payload_size: 32 << 20,
            raw: false,
        }
    }
}

impl Settings {
    /// Reads the settings through `lookup` (a Worker's `env`, or a map in tests); empty
    /// values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut settings = Self::default();
        if let Some(bucket) = get("DELTAGLIDER_BUCKET") {
            settings.bucket = bucket.trim().to_owned();
        }
        settings.credentials = match (get("DELTAGLIDER_ACCESS_KEY"), get("DELTAGLIDER_SECRET_KEY"))
        {
            (Some(access), Some(secret)) => Some((access, secret)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(SettingsError {
                    name: "DELTAGLIDER_SECRET_KEY",
                    value: String::new(),
                    reason: "an access key is set without its secret key",
                });
            }
            (None, Some(_)) => {
                return Err(SettingsError {
                    name: "DELTAGLIDER_ACCESS_KEY",
                    value: String::new(),
                    reason: "a secret key is set without its access key",
                });
            }
        };
        if let Some(value) = get("DELTAGLIDER_ALLOW_ANONYMOUS") {
            settings.allow_anonymous = parse_bool("DELTAGLIDER_ALLOW_ANONYMOUS", value)?;
        }
        if let Some(value) = get("DELTAGLIDER_GZIP_PAYLOADS") {
            settings.gzip_payloads = parse_bool("DELTAGLIDER_GZIP_PAYLOADS", value)?;
        }
        if let Some(value) = get("DELTAGLIDER_MAX_PAYLOAD_SIZE") {
            settings.max_payload_size = parse_bytes(&value).ok_or_else(|| {
                invalid("DELTAGLIDER_MAX_PAYLOAD_SIZE", value, "not a byte count")
            })?;
        }
        if let Some(value) = get("DELTAGLIDER_RAW") {
            settings.raw = parse_bool("DELTAGLIDER_RAW", value)?;
        }
        settings.region = get("DELTAGLIDER_REGION").map(|r| r.trim().to_owned());
        if let Some(value) = get("DELTAGLIDER_MAX_DELTA_RATIO") {
            settings.max_delta_ratio = value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| {
                    invalid(
                        "DELTAGLIDER_MAX_DELTA_RATIO",
                        value,
                        "not a number in 0..=1",
                    )
                })?;
        }
        if let Some(value) = get("DELTAGLIDER_MAX_OBJECT_SIZE") {
            settings.max_object_size = parse_bytes(&value)
                .ok_or_else(|| invalid("DELTAGLIDER_MAX_OBJECT_SIZE", value, "not a byte count"))?;
        }
        if let Some(value) = get("DELTAGLIDER_CACHE_BYTES") {
            settings.cache_bytes = parse_bytes(&value)
                .ok_or_else(|| invalid("DELTAGLIDER_CACHE_BYTES", value, "not a byte count"))?;
        }
        Ok(settings)
    }

    /// The layer's configuration.
    pub fn delta_config(&self) -> DeltaConfig {
        DeltaConfig::default()
            .max_delta_ratio(self.max_delta_ratio)
            .max_object_size(self.max_object_size)
            // Larger objects are stored whole: the large-object path needs minutes of
            // work per completion and a thread for its heartbeat, which a Worker has not.
            .max_large_object_size(0)
            .cache_bytes(self.cache_bytes)
            .gzip_payloads(self.gzip_payloads)
            .max_payload_size(self.max_payload_size)
    }
}

fn invalid(name: &'static str, value: String, reason: &'static str) -> SettingsError {
    SettingsError {
        name,
        value,
        reason,
    }
}

fn parse_bool(name: &'static str, value: String) -> Result<bool, SettingsError> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(name, value, "not a boolean")),
    }
}

/// `1048576`, `64KiB`, `20MiB`, `1GiB` (binary units; `K`, `M`, `G` alone mean the same).
fn parse_bytes(value: &str) -> Option<u64> {
    let value = value.trim();
    let split = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        _ => return None,
    };
    number.parse::<u64>().ok()?.checked_mul(1 << shift)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_are_closed() {
        let settings = from(&[]).expect("defaults");
        assert_eq!(settings, Settings::default());
        assert!(settings.credentials.is_none());
        assert!(!settings.allow_anonymous);
    }

    #[test]
    fn reads_every_setting() {
        let settings = from(&[
            ("DELTAGLIDER_BUCKET", "releases"),
            ("DELTAGLIDER_ACCESS_KEY", "AK"),
            ("DELTAGLIDER_SECRET_KEY", "SK"),
            ("DELTAGLIDER_REGION", "auto"),
            ("DELTAGLIDER_MAX_DELTA_RATIO", "0.4"),
            ("DELTAGLIDER_MAX_OBJECT_SIZE", "8MiB"),
            ("DELTAGLIDER_CACHE_BYTES", "65536"),
            ("DELTAGLIDER_GZIP_PAYLOADS", "true"),
            ("DELTAGLIDER_MAX_PAYLOAD_SIZE", "64MiB"),
        ])
        .expect("valid");
        assert_eq!(settings.bucket, "releases");
        assert_eq!(settings.credentials, Some(("AK".into(), "SK".into())));
        assert_eq!(settings.region.as_deref(), Some("auto"));
        assert_eq!(settings.max_delta_ratio, 0.4);
        assert_eq!(settings.max_object_size, 8 << 20);
        assert_eq!(settings.cache_bytes, 65536);
        assert!(settings.gzip_payloads);
        assert_eq!(settings.max_payload_size, 64 << 20);
    }

    #[test]
    fn refuses_bad_values() {
        assert!(from(&[("DELTAGLIDER_ACCESS_KEY", "AK")]).is_err());
        assert!(from(&[("DELTAGLIDER_SECRET_KEY", "SK")]).is_err());
        assert!(from(&[("DELTAGLIDER_MAX_DELTA_RATIO", "2")]).is_err());
        assert!(from(&[("DELTAGLIDER_MAX_OBJECT_SIZE", "12 parsecs")]).is_err());
        assert!(from(&[("DELTAGLIDER_ALLOW_ANONYMOUS", "maybe")]).is_err());
        assert!(
            from(&[("DELTAGLIDER_ALLOW_ANONYMOUS", "true")])
                .expect("valid")
                .allow_anonymous
        );
        assert!(from(&[("DELTAGLIDER_RAW", "1")]).expect("valid").raw);
    }

    #[test]
    fn byte_counts() {
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("64KiB"), Some(64 << 10));
        assert_eq!(parse_bytes("20M"), Some(20 << 20));
        assert_eq!(parse_bytes("1 GiB"), Some(1 << 30));
        assert_eq!(parse_bytes("x"), None);
    }
}
