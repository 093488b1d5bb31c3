//! `deltaglider-proxy`: the standalone S3 proxy.
//!
//! **Not built yet.** The proxy needs the `DeltaLayer`, which is planned work. Rather than
//! pretend, this binary says so and exits with status 2.
#![forbid(unsafe_code)]

fn main() {
    eprintln!(
        "deltaglider-proxy {}: the S3 proxy is not built yet (it needs the DeltaLayer).\n\
         What works today is the codec: cargo run --release -p deltaglider-codec --example codec_bench",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
