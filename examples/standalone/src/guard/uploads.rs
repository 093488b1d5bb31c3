//! The multipart uploads `s3s-fs` keeps in its data directory's root:
//!
//! - `.upload-<id>.json`: exists while the upload is open; written when it is initiated.
//! - `.bucket-<b64(bucket)>.object-<b64(key)>.upload-<id>.metadata.json`: which key it is
//!   for (unpadded URL-safe base64, so the names contain no `.` of their own).
//! - `.upload_id-<id>.part-<n>`: each uploaded part's bytes.
//!
//! `s3s-fs` can neither list nor expire them, and a completion that fails part-way leaves
//! the parts behind with the upload already closed: this module finds, checks and removes
//! them.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// An open multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Upload {
    pub(crate) id: String,
    pub(crate) bucket: String,
    pub(crate) key: String,
    pub(crate) initiated: SystemTime,
}

/// An uploaded part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub(crate) size: u64,
    pub(crate) path: PathBuf,
}

/// Whether `id` has the shape of the upload ids `s3s-fs` hands out (a hyphenated UUID), so
/// it is safe to put in a file name.
pub(crate) fn is_upload_id(id: &str) -> bool {
    id.len() == 36
        && id.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether upload `id` is open.
pub(crate) fn is_open(root: &Path, id: &str) -> bool {
    is_upload_id(id) && info_path(root, id).is_file()
}

/// Whether upload `id` is open and was initiated for `key` of `bucket` (S3 answers
/// `NoSuchUpload` otherwise; `s3s-fs` would take parts for any key).
pub(crate) fn belongs(root: &Path, id: &str, bucket: &str, key: &str) -> bool {
    let encode = |s: &str| base64_simd::URL_SAFE_NO_PAD.encode_to_string(s);
    is_open(root, id)
        && root
            .join(format!(
                ".bucket-{}.object-{}.upload-{id}.metadata.json",
                encode(bucket),
                encode(key)
            ))
            .is_file()
}

fn info_path(root: &Path, id: &str) -> PathBuf {
    root.join(format!(".upload-{id}.json"))
}

/// What one file in the root is, if it belongs to an upload.
enum Entry {
    Info {
        id: String,
    },
    Metadata {
        id: String,
        bucket: String,
        key: String,
    },
    Part {
        id: String,
    },
}

fn classify(name: &str) -> Option<Entry> {
    if let Some(id) = name
        .strip_prefix(".upload-")
        .and_then(|rest| rest.strip_suffix(".json"))
        .filter(|id| is_upload_id(id))
    {
        return Some(Entry::Info { id: id.to_owned() });
    }
    if let Some(rest) = name.strip_prefix(".upload_id-") {
        let (id, number) = rest.split_once(".part-")?;
        return (is_upload_id(id) && number.parse::<u32>().is_ok())
            .then(|| Entry::Part { id: id.to_owned() });
    }
    let rest = name
        .strip_prefix(".bucket-")?
        .strip_suffix(".metadata.json")?;
    let (bucket, rest) = rest.split_once(".object-")?;
    let (key, id) = rest.split_once(".upload-")?;
    let decode = |b64: &str| {
        base64_simd::URL_SAFE_NO_PAD
            .decode_to_vec(b64)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
    };
    is_upload_id(id).then_some(())?;
    Some(Entry::Metadata {
        id: id.to_owned(),
        bucket: decode(bucket)?,
        key: decode(key)?,
    })
}

/// Every file in `root` that belongs to an upload, with its modification time.
fn scan(root: &Path) -> io::Result<Vec<(Entry, PathBuf, SystemTime)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(kind) = name.to_str().and_then(classify) else {
            continue;
        };
        // A file removed between listing and here is simply gone.
        let Ok(meta) = entry.metadata() else { continue };
        found.push((kind, entry.path(), meta.modified()?));
    }
    Ok(found)
}

/// The open uploads into `bucket`, in no particular order.
pub(crate) fn open_uploads(root: &Path, bucket: &str) -> io::Result<Vec<Upload>> {
    let entries = scan(root)?;
    let initiated: HashMap<&str, SystemTime> = entries
        .iter()
        .filter_map(|(entry, _, modified)| match entry {
            Entry::Info { id } => Some((id.as_str(), *modified)),
            _ => None,
        })
        .collect();
    Ok(entries
        .iter()
        .filter_map(|(entry, _, _)| match entry {
            Entry::Metadata { id, bucket: b, key } if b == bucket => {
                initiated.get(id.as_str()).map(|at| Upload {
                    id: id.clone(),
                    bucket: b.clone(),
                    key: key.clone(),
                    initiated: *at,
                })
            }
            _ => None,
        })
        .collect())
}

/// The parts uploaded so far to upload `id`, by part number.
pub(crate) fn parts(root: &Path, id: &str) -> io::Result<BTreeMap<u32, Part>> {
    let prefix = format!(".upload_id-{id}.part-");
    let mut parts = BTreeMap::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(number) = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.parse().ok())
        else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue };
        parts.insert(
            number,
            Part {
                size: meta.len(),
                path: entry.path(),
            },
        );
    }
    Ok(parts)
}

/// A part's ETag as `s3s-fs` answered it to UploadPart: the hex MD5 of its bytes.
pub(crate) fn part_etag(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut md5 = deltaglider_codec::Md5::new();
    let mut buffer = vec![0; 256 << 10];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(md5.finish().to_hex());
        }
        md5.update(&buffer[..n]);
    }
}

/// Removes the parts of upload `id` that `keep` does not want (after a completion: those
/// the client did not list, which `s3s-fs` would otherwise keep forever).
pub(crate) fn remove_parts(root: &Path, id: &str, keep: impl Fn(u32) -> bool) -> io::Result<()> {
    for (number, part) in parts(root, id)? {
        if !keep(number) {
            remove(&part.path)?;
        }
    }
    Ok(())
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// What a sweep removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Swept {
    /// Open uploads initiated longer ago than the limit.
    pub(crate) uploads: usize,
    /// Files removed, theirs and those of uploads already closed (abandoned parts).
    pub(crate) files: usize,
}

/// Aborts every upload initiated more than `after` ago (as S3's lifecycle rule
/// `AbortIncompleteMultipartUpload` does) and removes the files of closed uploads that
/// were last touched more than `after` ago.
pub(crate) fn sweep(root: &Path, after: Duration, now: SystemTime) -> io::Result<Swept> {
    let entries = scan(root)?;
    let old = |at: SystemTime| now.duration_since(at).is_ok_and(|age| age > after);
    let open: HashMap<&str, SystemTime> = entries
        .iter()
        .filter_map(|(entry, _, modified)| match entry {
            Entry::Info { id } => Some((id.as_str(), *modified)),
            _ => None,
        })
        .collect();
    let mut swept = Swept::default();
    // Parts and metadata first, the upload's info file last: an interrupted sweep leaves
    // an upload that is still open (and swept again) rather than files nobody owns.
    for (entry, path, modified) in &entries {
        let id = match entry {
            Entry::Info { .. } => continue,
            Entry::Metadata { id, .. } | Entry::Part { id, .. } => id.as_str(),
        };
        let expired = match open.get(id) {
            Some(initiated) => old(*initiated),
            None => old(*modified),
        };
        if expired {
            remove(path)?;
            swept.files += 1;
        }
    }
    for (id, initiated) in &open {
        if old(*initiated) {
            remove(&info_path(root, id))?;
            swept.uploads += 1;
            swept.files += 1;
        }
    }
    Ok(swept)
}

/// Sweeps `root` now and then every hour (or every quarter of `after`, if shorter), for
/// as long as the process runs.
pub(crate) async fn sweep_periodically(root: PathBuf, after: Duration) {
    let period = (after / 4).clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut ticks = tokio::time::interval(period);
    loop {
        ticks.tick().await;
        let root = root.clone();
        match tokio::task::spawn_blocking(move || sweep(&root, after, SystemTime::now())).await {
            Ok(Ok(swept)) if swept != Swept::default() => tracing::info!(
                uploads = swept.uploads,
                files = swept.files,
                "removed abandoned multipart uploads"
            ),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot sweep multipart uploads"),
            Err(e) => tracing::warn!(error = %e, "multipart upload sweep failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b5e8c2a-3f41-4d7e-9a10-2c3d4e5f6a7b";
    const OTHER: &str = "1b5e8c2a-3f41-4d7e-9a10-2c3d4e5f6a7b";

    fn b64(s: &str) -> String {
        base64_simd::URL_SAFE_NO_PAD.encode_to_string(s)
    }

    fn touch(root: &Path, name: &str, bytes: &[u8]) {
        std::fs::write(root.join(name), bytes).expect("write");
    }

    fn temp_root(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("dg-uploads-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("root");
        root
    }

    #[test]
    fn ids_and_names() {
        assert!(is_upload_id(ID));
        for bad in ["", "../../etc/passwd", &ID.replace('-', "x"), &ID[1..]] {
            assert!(!is_upload_id(bad), "{bad}");
        }
        assert!(matches!(
            classify(&format!(".upload_id-{ID}.part-12")),
            Some(Entry::Part { .. })
        ));
        assert!(classify(&format!(".upload_id-{ID}.part-x")).is_none());
        assert!(
            classify(&format!(
                ".bucket-{}.object-{}.metadata.json",
                b64("b"),
                b64("k")
            ))
            .is_none()
        );
        match classify(&format!(
            ".bucket-{}.object-{}.upload-{ID}.metadata.json",
            b64("b"),
            b64("dir/ä.zip")
        )) {
            Some(Entry::Metadata { id, bucket, key }) => {
                assert_eq!(
                    (id.as_str(), bucket.as_str(), key.as_str()),
                    (ID, "b", "dir/ä.zip")
                );
            }
            _ => panic!("metadata not recognised"),
        }
    }

    #[test]
    fn lists_checks_and_sweeps() {
        let root = temp_root("sweep");
        touch(&root, &format!(".upload-{ID}.json"), b"null");
        touch(
            &root,
            &format!(
                ".bucket-{}.object-{}.upload-{ID}.metadata.json",
                b64("b"),
                b64("a/k.zip")
            ),
            b"{}",
        );
        touch(&root, &format!(".upload_id-{ID}.part-1"), b"hello");
        touch(&root, &format!(".upload_id-{ID}.part-2"), b"world");
        // Parts of an upload already closed (a completion that failed part-way).
        touch(&root, &format!(".upload_id-{OTHER}.part-1"), b"left behind");
        // An object's own sidecar is never touched.
        let object_sidecar = format!(".bucket-{}.object-{}.metadata.json", b64("b"), b64("k"));
        touch(&root, &object_sidecar, b"{}");

        let listed = open_uploads(&root, "b").expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].id.as_str(), listed[0].key.as_str()),
            (ID, "a/k.zip")
        );
        assert!(open_uploads(&root, "other").expect("list").is_empty());
        assert!(belongs(&root, ID, "b", "a/k.zip"));
        assert!(!belongs(&root, ID, "b", "a/other.zip"));
        assert!(!belongs(&root, ID, "c", "a/k.zip"));
        assert!(!belongs(&root, OTHER, "b", "a/k.zip"));
        let found = parts(&root, ID).expect("parts");
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(found[&1].size, 5);
        assert_eq!(
            part_etag(&found[&1].path).expect("etag"),
            "5d41402abc4b2a76b9719d911017c592"
        );

        // Nothing is old yet.
        let now = SystemTime::now();
        let day = Duration::from_secs(86_400);
        assert_eq!(sweep(&root, day, now).expect("sweep"), Swept::default());
        assert_eq!(parts(&root, ID).expect("parts").len(), 2);
        // A day later everything of both uploads goes, the object's sidecar stays.
        let swept = sweep(&root, day, now + day + Duration::from_secs(1)).expect("sweep");
        assert_eq!(
            swept,
            Swept {
                uploads: 1,
                files: 5
            }
        );
        let left: Vec<String> = std::fs::read_dir(&root)
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [object_sidecar]);
        let _ = std::fs::remove_dir_all(&root);
    }
}
