//! Compiles the vendored xdelta3 C library for the `native` backend.

fn main() {
    println!("cargo:rerun-if-changed=xdelta3");
    let native = std::env::var_os("CARGO_FEATURE_NATIVE").is_some();
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32");
    if !native || wasm {
        return;
    }
    let pointer_bytes = match std::env::var("CARGO_CFG_TARGET_POINTER_WIDTH").as_deref() {
        Ok("32") => "4",
        _ => "8",
    };
    let long_bytes = if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("windows") {
        "4"
    } else {
        pointer_bytes
    };
    cc::Build::new()
        .file("xdelta3/xdelta3.c")
        .include("xdelta3")
        .define("SIZEOF_SIZE_T", pointer_bytes)
        .define("SIZEOF_UNSIGNED_INT", "4")
        .define("SIZEOF_UNSIGNED_LONG", long_bytes)
        .define("SIZEOF_UNSIGNED_LONG_LONG", "8")
        .define("XD3_USE_LARGEFILE64", "1")
        .define("SECONDARY_DJW", "0")
        .define("SECONDARY_FGK", "0")
        .define("SECONDARY_LZMA", "0")
        .define("EXTERNAL_COMPRESSION", "0")
        .define("SHELL_TESTS", "0")
        .define("XD3_DEBUG", "0")
        // The library is hot code; debug builds of the crate still want it optimised.
        .opt_level(2)
        .warnings(false)
        .compile("xdelta3");
}
