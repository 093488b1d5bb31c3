//! `DeltaLayer` throughput against a bare `s3s-fs` backend, both driven in-process by the
//! real `aws-sdk-s3` client (no socket), in one run:
//!
//! - `delta_put` / `delta_get`: a delta-eligible object (`releases/vN.zip`). The first PUT
//!   (`v1.zip`, a pseudo-random reference) seeds the deltaspace's reference; every object
//!   after it is a ~1 %-edited variant. Each timed PUT **overwrites one key**
//!   (`releases/v3.zip`), cycling through four variants, so through the layer every
//!   iteration is a full encode + verify; the GET reads `releases/v2.zip` (a stored delta).
//! - `passthrough_put` / `passthrough_get`: `notes.dat`, not delta-eligible, so the layer
//!   forwards it; each PUT overwrites it.
//! - `list_v2`: full ListObjectsV2 pagination (1000 keys a page) over 10,000 small
//!   objects, half `.zip` (stored as `.delta` behind the layer) and half `.txt`. The
//!   objects are created once, outside every timed region.
//!
//! Every benchmark has the argument `bare` (plain `s3s-fs`) or `layer` (`DeltaLayer` over
//! `s3s-fs`); throughput is bytes of the whole object (or listed keys) per second.
//! `s3s-fs` reads files in 4 KiB pieces, each through tokio's blocking pool, so on a small
//! VM its GETs (and listings) are bimodal from sample to sample: compare the fastest
//! samples as well as the medians. Results: `docs/benchmarks.md`.
//!
//! ```text
//! cargo bench -p deltaglider-tests --bench layer            # 64 MiB objects, 10,000 keys
//! cargo bench -p deltaglider-tests --bench layer -- --test  # smoke run: 1 MiB, 200 keys
//! DELTAGLIDER_BENCH_MIB=16 DELTAGLIDER_BENCH_KEYS=2000 cargo bench -p deltaglider-tests --bench layer
//! ```
//!
//! Scratch data lives under `target/test-scratch/bench-layer-*` and is removed at exit.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use deltaglider::DeltaConfig;
use deltaglider_tests::s3::{client, layered, plain};
use deltaglider_tests::scratch_dir;
use divan::counter::{BytesCount, ItemsCount};
use divan::{Bencher, black_box};
use tokio::runtime::Runtime;

fn main() {
    divan::main();
    for dir in SCRATCH {
        let _ = std::fs::remove_dir_all(scratch_path(dir));
    }
}

/// The two stacks compared, as benchmark arguments.
const TARGETS: &[&str] = &["bare", "layer"];

/// Scratch directories (under `target/test-scratch`) this benchmark creates.
const SCRATCH: &[&str] = &[
    "bench-layer-objects-bare",
    "bench-layer-objects-layer",
    "bench-layer-list-bare",
    "bench-layer-list-layer",
];

const BUCKET: &str = "bench";
/// Seeds the reference (first PUT of the deltaspace).
const SEED_KEY: &str = "releases/v1.zip";
/// Read by `delta_get`.
const GET_KEY: &str = "releases/v2.zip";
/// Overwritten by `delta_put`.
const PUT_KEY: &str = "releases/v3.zip";
/// Not delta-eligible: read and overwritten by the passthrough benchmarks.
const NOTES_KEY: &str = "notes.dat";
/// Variants `delta_put` cycles through.
const VARIANTS: usize = 4;

fn smoke() -> bool {
    cfg!(debug_assertions) || std::env::args().any(|a| a == "--test")
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Object size: `DELTAGLIDER_BENCH_MIB`, else 1 MiB for a smoke run (`--test` or a debug
/// build), else 64 MiB.
fn object_len() -> usize {
    if let Some(mib) = env_usize("DELTAGLIDER_BENCH_MIB") {
        return mib.max(1) << 20;
    }
    if smoke() { 1 << 20 } else { 64 << 20 }
}

/// Keys listed: `DELTAGLIDER_BENCH_KEYS`, else 200 for a smoke run, else 10,000.
fn list_keys() -> usize {
    if let Some(n) = env_usize("DELTAGLIDER_BENCH_KEYS") {
        return n.max(2);
    }
    if smoke() { 200 } else { 10_000 }
}

/// One multi-threaded runtime for the whole run; benchmarks `block_on` it.
fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

fn scratch_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/test-scratch")
        .join(name)
}

/// xorshift64: deterministic and dependency-free.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    XorShift::new(seed).fill(&mut bytes);
    bytes
}

/// `base` with an edit every 2–6 KiB: an insertion, deletion or replacement of 8–72 bytes
/// (about 1 % of the bytes), as in `codec/examples/codec_bench/synthetic.rs`, but seeded.
fn edited(base: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = XorShift::new(seed);
    let mut out = Vec::with_capacity(base.len() + base.len() / 64);
    let mut scratch = [0u8; 72];
    let mut pos = 0;
    loop {
        let gap = 2048 + rng.below(4096) as usize;
        if pos + gap >= base.len() {
            out.extend_from_slice(&base[pos..]);
            return out;
        }
        out.extend_from_slice(&base[pos..pos + gap]);
        pos += gap;
        let len = 8 + rng.below(65) as usize;
        let fresh = &mut scratch[..len];
        rng.fill(fresh);
        match rng.below(3) {
            0 => out.extend_from_slice(fresh),
            1 => pos = (pos + len).min(base.len()),
            _ => {
                out.extend_from_slice(fresh);
                pos = (pos + len).min(base.len());
            }
        }
    }
}

async fn put(s3: &Client, key: &str, body: Bytes) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {key}: {e:?}"));
}

async fn get(s3: &Client, key: &str) -> Bytes {
    s3.get_object()
        .bucket(BUCKET)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e:?}"))
        .body
        .collect()
        .await
        .expect("GET body")
        .into_bytes()
}

async fn create_bucket(s3: &Client) {
    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("create bucket");
}

/// One stack over its own scratch directory.
struct Stack {
    root: PathBuf,
    s3: Client,
}

impl Stack {
    fn new(target: &str, purpose: &str) -> Self {
        let root = scratch_dir(&format!("bench-layer-{purpose}-{target}"));
        let s3 = match target {
            "bare" => client(plain(root.clone())),
            _ => client(layered(&root, DeltaConfig::default()).0),
        };
        Self { root, s3 }
    }

    fn stored(&self, key: &str) -> bool {
        self.root.join(BUCKET).join(key).exists()
    }
}

/// The large objects and both stacks holding them, built once, outside every timed region.
struct Objects {
    /// `VARIANTS` ~1 %-edited variants of the reference: `delta_put` bodies.
    variants: Vec<Bytes>,
    /// `releases/v2.zip` (also variant 0) and `notes.dat`.
    get_body: Bytes,
    notes: Bytes,
    bare: Stack,
    layer: Stack,
    next: AtomicUsize,
}

impl Objects {
    fn stack(&self, target: &str) -> &Stack {
        match target {
            "bare" => &self.bare,
            _ => &self.layer,
        }
    }

    fn bytes(&self) -> BytesCount {
        BytesCount::of_slice(&self.get_body)
    }

    /// The body of the next `delta_put` iteration.
    fn next_variant(&self) -> Bytes {
        self.variants[self.next.fetch_add(1, Ordering::Relaxed) % VARIANTS].clone()
    }
}

fn objects() -> &'static Objects {
    static OBJECTS: OnceLock<Objects> = OnceLock::new();
    OBJECTS.get_or_init(|| {
        let len = object_len();
        let reference = Bytes::from(noise(1, len));
        let variants: Vec<Bytes> = (0..VARIANTS as u64)
            .map(|i| Bytes::from(edited(&reference, 100 + i)))
            .collect();
        let notes = Bytes::from(noise(2, len));
        let objects = Objects {
            get_body: variants[0].clone(),
            variants,
            notes,
            bare: Stack::new("bare", "objects"),
            layer: Stack::new("layer", "objects"),
            next: AtomicUsize::new(0),
        };
        runtime().block_on(async {
            for stack in [&objects.bare, &objects.layer] {
                let s3 = &stack.s3;
                create_bucket(s3).await;
                put(s3, SEED_KEY, reference.clone()).await;
                put(s3, GET_KEY, objects.get_body.clone()).await;
                put(s3, PUT_KEY, objects.variants[1].clone()).await;
                put(s3, NOTES_KEY, objects.notes.clone()).await;
                assert!(get(s3, GET_KEY).await == objects.get_body, "GET {GET_KEY}");
                assert!(get(s3, NOTES_KEY).await == objects.notes, "GET {NOTES_KEY}");
            }
        });
        let layer = &objects.layer;
        assert!(layer.stored("releases/reference.bin"), "reference seeded");
        for key in [GET_KEY, PUT_KEY] {
            assert!(
                layer.stored(&format!("{key}.delta")) && !layer.stored(key),
                "{key} stored as a delta"
            );
        }
        assert!(layer.stored(NOTES_KEY), "{NOTES_KEY} stored whole");
        objects
    })
}

/// PUT of a delta-eligible object, overwriting one key with a different variant each
/// iteration (the layer encodes against the seeded reference and verifies the delta).
#[divan::bench(args = TARGETS, sample_count = 8, sample_size = 1)]
fn delta_put(bencher: Bencher<'_, '_>, target: &str) {
    let o = objects();
    let s3 = &o.stack(target).s3;
    bencher
        .counter(o.bytes())
        .with_inputs(|| o.next_variant())
        .bench_values(|body| runtime().block_on(put(s3, PUT_KEY, body)));
    if target == "layer" {
        assert!(
            o.layer.stored(&format!("{PUT_KEY}.delta")) && !o.layer.stored(PUT_KEY),
            "{PUT_KEY} still stored as a delta"
        );
    }
}

/// GET of the delta-eligible object (through the layer: a stored delta, reconstructed
/// against the cached reference and SHA-256-verified).
#[divan::bench(args = TARGETS, sample_count = 20, sample_size = 1)]
fn delta_get(bencher: Bencher<'_, '_>, target: &str) {
    let o = objects();
    let s3 = &o.stack(target).s3;
    bencher
        .counter(o.bytes())
        .bench(|| black_box(runtime().block_on(get(s3, GET_KEY))).len());
}

/// PUT of a non-eligible object, overwriting it.
#[divan::bench(args = TARGETS, sample_count = 10, sample_size = 1)]
fn passthrough_put(bencher: Bencher<'_, '_>, target: &str) {
    let o = objects();
    let s3 = &o.stack(target).s3;
    bencher
        .counter(o.bytes())
        .with_inputs(|| o.notes.clone())
        .bench_values(|body| runtime().block_on(put(s3, NOTES_KEY, body)));
}

/// GET of a non-eligible object.
#[divan::bench(args = TARGETS, sample_count = 20, sample_size = 1)]
fn passthrough_get(bencher: Bencher<'_, '_>, target: &str) {
    let o = objects();
    let s3 = &o.stack(target).s3;
    bencher
        .counter(o.bytes())
        .bench(|| black_box(runtime().block_on(get(s3, NOTES_KEY))).len());
}

/// Small objects to list, on both stacks, built once.
struct Listing {
    keys: usize,
    bare: Stack,
    layer: Stack,
}

fn list_key(i: usize) -> String {
    let ext = if i.is_multiple_of(2) { "zip" } else { "txt" };
    format!("app/k{i:06}.{ext}")
}

fn listing() -> &'static Listing {
    static LISTING: OnceLock<Listing> = OnceLock::new();
    LISTING.get_or_init(|| {
        let keys = list_keys();
        let listing = Listing {
            keys,
            bare: Stack::new("bare", "list"),
            layer: Stack::new("layer", "list"),
        };
        // Similar 4 KiB bodies, so every `.zip` after the first is stored as a small delta.
        let base = noise(3, 4096);
        let body = |i: usize| {
            if i.is_multiple_of(2) {
                let mut b = base.clone();
                b[100..108].copy_from_slice(&(i as u64).to_le_bytes());
                Bytes::from(b)
            } else {
                Bytes::from(format!("object {i}\n"))
            }
        };
        runtime().block_on(async {
            for stack in [&listing.bare, &listing.layer] {
                let s3 = &stack.s3;
                create_bucket(s3).await;
                // The first `.zip` seeds the reference before the concurrent PUTs.
                put(s3, &list_key(0), body(0)).await;
                let mut tasks = tokio::task::JoinSet::new();
                for i in 1..keys {
                    if tasks.len() >= 16
                        && let Some(r) = tasks.join_next().await
                    {
                        r.expect("PUT task");
                    }
                    let (s3, b) = (s3.clone(), body(i));
                    tasks.spawn(async move { put(&s3, &list_key(i), b).await });
                }
                while let Some(r) = tasks.join_next().await {
                    r.expect("PUT task");
                }
            }
        });
        let layer = &listing.layer;
        assert!(layer.stored("app/reference.bin"), "reference seeded");
        for i in [2, keys - 1 - (keys - 1) % 2] {
            let key = list_key(i);
            assert!(
                layer.stored(&format!("{key}.delta")) && !layer.stored(&key),
                "{key} stored as a delta"
            );
        }
        listing
    })
}

/// Every key, by ListObjectsV2 pages of 1000.
async fn list_all(s3: &Client) -> usize {
    let mut token: Option<String> = None;
    let mut n = 0;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(BUCKET)
            .max_keys(1000)
            .set_continuation_token(token.take())
            .send()
            .await
            .expect("ListObjectsV2");
        n += page.contents().len();
        match page.next_continuation_token() {
            Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
            _ => return n,
        }
    }
}

/// Full ListObjectsV2 pagination; throughput in keys.
#[divan::bench(args = TARGETS, sample_count = 10, sample_size = 1)]
fn list_v2(bencher: Bencher<'_, '_>, target: &str) {
    let l = listing();
    let s3 = match target {
        "bare" => &l.bare.s3,
        _ => &l.layer.s3,
    };
    bencher.counter(ItemsCount::new(l.keys)).bench(|| {
        let n = runtime().block_on(list_all(s3));
        assert_eq!(n, l.keys, "every key listed once");
    });
}
