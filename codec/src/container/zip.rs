//! zip archives: their payload, and the segments that rebuild them.
//!
//! The payload is the archive itself with each deflated member's data replaced by its
//! decompressed bytes: headers, names and the central directory stay, so they delta
//! against the reference's. A member whose stream no method rebuilds is copied as it is.

use std::collections::HashMap;
use std::ops::Range;

use super::limits::Limits;
use super::parallel;
use super::recipe::Segment;
use super::split::Split;
use crate::deflate::{Hint, Method, identify};
use crate::zip::{Region, regions};

/// Whether `data` starts like a zip archive (a local file header, or an empty archive's
/// end record).
pub(super) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")
}

/// The payload size the archive declares: its raw bytes and its deflated members' sizes.
pub(super) fn declared_size(data: &[u8]) -> Option<u64> {
    regions(data)?.iter().try_fold(0u64, |sum, r| {
        sum.checked_add(match r {
            Region::Raw(range) => range.len() as u64,
            Region::Deflated { plain_len, .. } => *plain_len,
        })
    })
}

/// The payload of `data` read as a reference, at most `max` bytes.
pub(super) fn payload(data: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for region in regions(data)? {
        match region {
            Region::Raw(range) => out.extend_from_slice(&data[range]),
            Region::Deflated {
                range, plain_len, ..
            } => {
                if !inflate_into(&data[range.clone()], plain_len, &mut out, max) {
                    out.extend_from_slice(&data[range]);
                }
            }
        }
        if out.len() > max {
            return None;
        }
    }
    Some(out)
}

/// Inflates `stream` onto `out` if it is exactly one complete deflate stream of
/// `plain_len` bytes and `out` stays within `max`; leaves `out` as it was otherwise.
fn inflate_into(stream: &[u8], plain_len: u64, out: &mut Vec<u8>, max: usize) -> bool {
    let Some(want) = usize::try_from(plain_len)
        .ok()
        .filter(|&n| n <= max.saturating_sub(out.len()))
    else {
        return false;
    };
    // One byte of room past the claimed size, so a longer stream is noticed.
    let mut plain = Vec::with_capacity(want + 1);
    let mut state = flate2::Decompress::new(false);
    loop {
        let read = state.total_in() as usize;
        let wrote = plain.len();
        let status =
            state.decompress_vec(&stream[read..], &mut plain, flate2::FlushDecompress::Finish);
        match status {
            Ok(flate2::Status::StreamEnd) => break,
            Ok(_)
                if plain.len() < want + 1
                    && (plain.len() > wrote || state.total_in() as usize > read) => {}
            _ => return false,
        }
    }
    if state.total_in() as usize != stream.len() || plain.len() != want {
        return false;
    }
    out.extend_from_slice(&plain);
    true
}

/// A region of the archive once its deflated members are inflated.
enum Part {
    /// Bytes kept as they are: headers, stored members, the central directory, and
    /// deflated members that do not inflate cleanly.
    Raw(Range<usize>),
    /// A deflated member: its stream in the archive and its decompressed bytes in the
    /// payload.
    Member {
        stream: Range<usize>,
        plain: Range<usize>,
        crc32: u32,
    },
}

/// Cuts `data` into segments, or `None` when it is not a zip this build reads or the
/// payload exceeds the limit.
///
/// A member whose compressed bytes `reference` (a zip archive, or anything else) holds
/// too is recorded as a copy of them. The others are identified on every core: the first
/// alone, the rest starting from its encoder (one tool usually writes every member), so
/// the recipe does not depend on the number of threads.
pub(super) fn split(data: &[u8], reference: Option<&[u8]>, limits: &Limits) -> Option<Split> {
    let (inflated, parts) = inflate_members(data, limits)?;
    let shared = reference.map(SharedMembers::of).unwrap_or_default();
    let policy = limits.policy(true);
    let mut methods: Vec<Option<Method>> = Vec::new();
    let mut unknown: Vec<(usize, &[u8], &[u8])> = Vec::new();
    for part in &parts {
        if let Part::Member {
            stream,
            plain,
            crc32,
        } = part
        {
            let stream = &data[stream.clone()];
            let copied = reference.and_then(|r| shared.find(r, stream, plain.len(), *crc32));
            if copied.is_none() {
                unknown.push((methods.len(), stream, &inflated[plain.clone()]));
            }
            methods.push(copied);
        }
    }
    let mut first: Hint = None;
    if let Some(&(i, stream, plain)) = unknown.first() {
        methods[i] = identify(stream, plain, &mut first, &policy);
    }
    let rest = unknown.get(1..).unwrap_or_default();
    let found = parallel::map(rest, |&(_, stream, plain)| {
        let mut hint = first;
        identify(stream, plain, &mut hint, &policy)
    });
    for (&(i, ..), method) in rest.iter().zip(found) {
        methods[i] = method;
    }
    // A member no method rebuilds keeps its compressed bytes: the payload is laid out
    // again only then.
    let all_rebuilt = methods.iter().all(Option::is_some);
    let mut out = Split {
        payload: if all_rebuilt {
            Vec::new()
        } else {
            Vec::with_capacity(inflated.len())
        },
        ..Split::default()
    };
    let mut methods = methods.into_iter();
    for part in parts {
        match part {
            Part::Raw(range) => {
                out.segments.push(Segment::Copy(range.len() as u64));
                if !all_rebuilt {
                    out.payload.extend_from_slice(&data[range]);
                }
            }
            Part::Member { stream, plain, .. } => match methods.next().flatten() {
                Some(method) => {
                    out.segments.push(Segment::Deflate {
                        plain_len: plain.len() as u64,
                        deflate_len: Some(stream.len() as u64),
                        method,
                    });
                    if !all_rebuilt {
                        out.payload.extend_from_slice(&inflated[plain]);
                    }
                    out.streams.push(stream);
                }
                None => {
                    out.segments.push(Segment::Copy(stream.len() as u64));
                    out.payload.extend_from_slice(&data[stream]);
                }
            },
        }
    }
    if all_rebuilt {
        out.payload = inflated;
    }
    Some(out)
}

/// The payload with every deflated member that inflates cleanly inflated (the others and
/// all other bytes as they are), and the parts it is made of; `None` when `data` is not a
/// zip this build reads or the payload would exceed the limit.
fn inflate_members(data: &[u8], limits: &Limits) -> Option<(Vec<u8>, Vec<Part>)> {
    let mut payload = Vec::new();
    let mut parts = Vec::new();
    for region in regions(data)? {
        let start = payload.len();
        let part = match region {
            Region::Raw(range) => {
                payload.extend_from_slice(&data[range.clone()]);
                Part::Raw(range)
            }
            Region::Deflated {
                range,
                plain_len,
                crc32,
            } => {
                let stream = &data[range.clone()];
                if inflate_into(stream, plain_len, &mut payload, limits.max_payload) {
                    Part::Member {
                        stream: range,
                        plain: start..payload.len(),
                        crc32,
                    }
                } else {
                    payload.extend_from_slice(stream);
                    Part::Raw(range)
                }
            }
        };
        if payload.len() > limits.max_payload {
            return None;
        }
        parts.push(part);
    }
    Some((payload, parts))
}

/// The deflated members of a reference archive, by what their headers say.
#[derive(Default)]
struct SharedMembers(HashMap<(u32, u64, usize), usize>);

impl SharedMembers {
    /// Indexes `reference`'s deflated members (none when it is not a zip archive).
    fn of(reference: &[u8]) -> Self {
        let members = regions(reference).into_iter().flatten();
        Self(
            members
                .filter_map(|region| match region {
                    Region::Deflated {
                        range,
                        plain_len,
                        crc32,
                    } => Some(((crc32, plain_len, range.len()), range.start)),
                    Region::Raw(_) => None,
                })
                .collect(),
        )
    }

    /// A copy of `stream` (of `plain_len` payload bytes with checksum `crc32`) from
    /// `reference`, when it holds the very same bytes.
    fn find(
        &self,
        reference: &[u8],
        stream: &[u8],
        plain_len: usize,
        crc32: u32,
    ) -> Option<Method> {
        let &start = self.0.get(&(crc32, plain_len as u64, stream.len()))?;
        (reference.get(start..start + stream.len())? == stream).then_some(Method::Reference {
            offset: start as u64,
        })
    }
}
