//! Zip archives cut into regions: the deflate streams of their members, and everything
//! else kept verbatim.
//!
//! `.zip`, `.jar`, `.whl`, `.apk` and `.nupkg` files deflate each member on its own, so one
//! changed member leaves the others' compressed bytes alone, but a member's compressed
//! bytes change throughout when its contents change a little. Deltas taken on the members'
//! inflated contents stay small; [`regions`] says which bytes to inflate and which to keep.
//!
//! ```
//! use deltaglider_codec::zip::{Region, regions};
//!
//! // An empty archive is its 22-byte end record.
//! let empty = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";
//! assert_eq!(regions(empty), Some(vec![Region::Raw(0..22)]));
//! assert_eq!(regions(b"not a zip"), None);
//! ```
//!
//! # What is understood
//!
//! The central directory is the truth (as for every unzip tool): the end-of-central-directory
//! record (classic or zip64) gives its place and entry count, its entries give each member's
//! local header offset, method, flags and sizes (64-bit values from the zip64 extra block).
//! Each local header must be where its entry says, with the same name length; members must
//! not overlap and must end before the central directory. A member with flag bit 3 must be
//! followed by a data descriptor (with or without its signature, 32- or 64-bit sizes) whose
//! values match its entry. Bytes before the first member (a self-extractor stub), between
//! members (an APK signing block) and after the central directory are raw regions. Offsets
//! of archives with bytes prepended and not adjusted (`cat stub.exe a.zip`) are found as
//! unzip finds them, from where the central directory actually ends.
//!
//! Members that are deflated (method 8), not encrypted, and not empty give
//! [`Region::Deflated`]; stored, encrypted and other methods' data is raw. Archives that
//! span several disks, or whose records contradict each other or the file, give `None`.
//!
//! The claimed `plain_len` and `crc32` are not checked (that needs inflating): a caller
//! inflates each deflated region, compares, and keeps a region whose claims are false as
//! raw bytes.
//!
//! # Limits
//!
//! Memory is O(number of entries), and an archive cannot claim more entries than its
//! central directory has room for (46 bytes each). No input panics (the `zip_regions` fuzz
//! target checks this and that the regions always cover the file exactly).

mod bytes;
mod central;
mod end;
mod local;
mod region;

pub use region::Region;

/// The regions of a zip archive, in file order, covering `bytes` exactly (every byte in
/// exactly one region), or `None` when `bytes` is not a zip archive this parser fully
/// understands (then the caller stores it as it is).
pub fn regions(bytes: &[u8]) -> Option<Vec<Region>> {
    let directory = end::find(bytes)?;
    let members = central::entries(bytes, &directory)?
        .iter()
        .map(|entry| local::member(bytes, entry, directory.shift))
        .collect::<Option<Vec<_>>>()?;
    region::lay_out(bytes.len(), members, directory.start)
}
