//! Codec throughput: encode, decode and decode + SHA-256 verify for both backends, and the
//! streaming decoder, on a 64 MiB pseudo-random reference and a target with ~1 % scattered
//! edits (see `examples/codec_bench/synthetic.rs`). Throughput is target bytes per second.
//!
//! ```text
//! cargo bench -p deltaglider-codec --bench codec            # 64 MiB
//! cargo bench -p deltaglider-codec --bench codec -- --test  # smoke run: once each, 1 MiB
//! DELTAGLIDER_BENCH_MIB=16 cargo bench -p deltaglider-codec --bench codec
//! ```
//!
//! The end-to-end comparison with the `xdelta3` and `zstd` commands, with peak memory, is
//! `examples/codec_bench.rs`.

use std::sync::OnceLock;

use deltaglider_codec::{
    Backend, EncodeOptions, Sha256, Sha256Digest, StreamDecoder, decode_verified_with, decode_with,
    encode,
};
use divan::counter::BytesCount;
use divan::{Bencher, black_box};

#[path = "../examples/codec_bench/synthetic.rs"]
mod synthetic;

fn main() {
    divan::main();
}

/// Backends, as benchmark arguments.
const BACKENDS: &[&str] = &["native", "pure"];

fn backend(name: &str) -> Backend {
    match name {
        "native" => Backend::Native,
        _ => Backend::Pure,
    }
}

struct Fixture {
    reference: Vec<u8>,
    target: Vec<u8>,
    sha256: Sha256Digest,
    native_delta: Vec<u8>,
    pure_delta: Vec<u8>,
}

impl Fixture {
    fn delta(&self, backend: Backend) -> &[u8] {
        match backend {
            Backend::Native => &self.native_delta,
            Backend::Pure => &self.pure_delta,
        }
    }

    fn bytes(&self) -> BytesCount {
        BytesCount::of_slice(&self.target)
    }
}

/// Input size: `DELTAGLIDER_BENCH_MIB`, else 1 MiB for a smoke run (`--test` or a debug
/// build), else 64 MiB.
fn input_len() -> usize {
    if let Some(mib) = std::env::var("DELTAGLIDER_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        return mib.max(1) << 20;
    }
    if cfg!(debug_assertions) || std::env::args().any(|a| a == "--test") {
        1 << 20
    } else {
        64 << 20
    }
}

/// Built once, outside every timed region.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let reference = synthetic::reference(input_len());
        let (target, _) = synthetic::edited(&reference);
        let delta = |b: Backend| {
            let b = if b.is_available() { b } else { Backend::Pure };
            encode(&reference, &target, &EncodeOptions::default().backend(b))
                .expect("encode")
                .into_delta()
                .expect("no cap, so a delta")
        };
        Fixture {
            sha256: Sha256::digest(&target),
            native_delta: delta(Backend::Native),
            pure_delta: delta(Backend::Pure),
            reference,
            target,
        }
    })
}

/// `encode`, memory mode.
#[divan::bench(args = BACKENDS, sample_count = 10, sample_size = 1)]
fn encode_memory(bencher: Bencher<'_, '_>, name: &str) {
    let f = fixture();
    let b = backend(name);
    if !b.is_available() {
        return;
    }
    let options = EncodeOptions::default().backend(b);
    bencher
        .counter(f.bytes())
        .bench(|| encode(black_box(&f.reference), black_box(&f.target), &options).expect("encode"));
}

/// `decode_with`: the delta made by the same backend.
#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 1)]
fn decode(bencher: Bencher<'_, '_>, name: &str) {
    let f = fixture();
    let b = backend(name);
    if !b.is_available() {
        return;
    }
    let len = f.target.len() as u64;
    bencher.counter(f.bytes()).bench(|| {
        decode_with(b, black_box(&f.reference), black_box(f.delta(b)), len).expect("decode")
    });
}

/// `decode_verified_with`: decode, then SHA-256 of the output.
#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 1)]
fn decode_verified(bencher: Bencher<'_, '_>, name: &str) {
    let f = fixture();
    let b = backend(name);
    if !b.is_available() {
        return;
    }
    let len = f.target.len() as u64;
    bencher.counter(f.bytes()).bench(|| {
        decode_verified_with(b, black_box(&f.reference), f.delta(b), len, &f.sha256)
            .expect("decode_verified")
    });
}

/// `StreamDecoder` fed 64 KiB pieces, reference in memory, windows discarded, SHA-256
/// checked by `finish`. The argument names the encoder that made the delta; the streaming
/// decoder has a single (pure Rust) engine.
#[divan::bench(args = BACKENDS, sample_count = 20, sample_size = 1)]
fn decode_stream(bencher: Bencher<'_, '_>, name: &str) {
    let f = fixture();
    let delta = f.delta(backend(name));
    let (ref_len, len) = (f.reference.len() as u64, f.target.len() as u64);
    bencher.counter(f.bytes()).bench(|| {
        let mut decoder = StreamDecoder::new(ref_len, len).expect_sha256(f.sha256);
        let mut reference: &[u8] = &f.reference;
        for piece in delta.chunks(64 << 10) {
            decoder.push(piece).expect("push");
            while let Some(window) = decoder.decode_next(&mut reference).expect("window") {
                black_box(&window);
            }
        }
        decoder.finish().expect("finish")
    });
}

/// SHA-256 of the target alone: the verification part of `decode_verified`.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn sha256(bencher: Bencher<'_, '_>) {
    let f = fixture();
    bencher
        .counter(f.bytes())
        .bench(|| Sha256::digest(black_box(&f.target)));
}
