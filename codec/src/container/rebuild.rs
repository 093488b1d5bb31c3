//! Rebuilding a container from its payload and recipe: literal and copied bytes in
//! order, deflate streams rebuilt independently (on every core where there are threads).

use std::ops::Range;

use super::error::{Error, Result};
use super::recipe::{Recipe, Segment};
use crate::deflate::Method;

/// One deflate stream to rebuild.
pub(super) struct Job<'a> {
    /// Zero-based among the recipe's deflate segments.
    pub(super) index: usize,
    /// Its payload.
    pub(super) plain: &'a [u8],
    /// Its recorded length, when the recipe has it.
    pub(super) deflate_len: Option<u64>,
    pub(super) method: &'a Method,
}

impl Job<'_> {
    /// Runs the stream's method.
    pub(super) fn run(&self) -> Result<Vec<u8>> {
        self.method
            .rebuild(self.plain, self.deflate_len)
            .map_err(|detail| Error::Recreate {
                stream: self.index,
                detail,
            })
    }
}

/// Rebuilds the container from `payload` and `recipe`, each deflate stream given by
/// `stream` (rebuilding it, or, to check a layout, the original bytes).
pub(super) fn assemble(
    payload: &[u8],
    recipe: &Recipe,
    stream: impl Fn(&Job<'_>) -> Result<Vec<u8>> + Sync,
) -> Result<Vec<u8>> {
    let described = recipe.payload_len();
    if described != Some(payload.len() as u64) {
        return Err(Error::PayloadLength {
            expected: described.unwrap_or(u64::MAX),
            actual: payload.len() as u64,
        });
    }
    let (ranges, jobs) = plan(payload, recipe);
    let mut streams = run_all(&jobs, &stream).into_iter();
    let mut out = Vec::with_capacity(payload.len() / 3);
    for (segment, range) in recipe.segments.iter().zip(ranges) {
        match segment {
            Segment::Literal(bytes) => out.extend_from_slice(bytes),
            Segment::Copy(_) => out.extend_from_slice(&payload[range]),
            // One result per deflate segment, in order.
            Segment::Deflate { .. } => match streams.next() {
                Some(stream) => out.extend_from_slice(&stream?),
                None => unreachable!("one job per deflate segment"),
            },
        }
    }
    Ok(out)
}

/// Each segment's payload range (in range: the lengths add up to the payload's, checked
/// by the caller), and the deflate jobs in order.
fn plan<'a>(payload: &'a [u8], recipe: &'a Recipe) -> (Vec<Range<usize>>, Vec<Job<'a>>) {
    let mut offset = 0usize;
    let mut ranges = Vec::with_capacity(recipe.segments.len());
    let mut jobs = Vec::new();
    for segment in &recipe.segments {
        let len = match segment {
            Segment::Literal(_) => 0,
            Segment::Copy(n) => *n as usize,
            Segment::Deflate { plain_len, .. } => *plain_len as usize,
        };
        let range = offset..offset + len;
        offset += len;
        if let Segment::Deflate {
            deflate_len,
            method,
            ..
        } = segment
        {
            jobs.push(Job {
                index: jobs.len(),
                plain: &payload[range.clone()],
                deflate_len: *deflate_len,
                method,
            });
        }
        ranges.push(range);
    }
    (ranges, jobs)
}

/// Runs every job, in order of results; on several threads where there are threads.
#[cfg(not(target_arch = "wasm32"))]
fn run_all(
    jobs: &[Job<'_>],
    stream: &(impl Fn(&Job<'_>) -> Result<Vec<u8>> + Sync),
) -> Vec<Result<Vec<u8>>> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len());
    if workers <= 1 {
        return jobs.iter().map(stream).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<OnceLock<Result<Vec<u8>>>> = jobs.iter().map(|_| OnceLock::new()).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let _ = slots[i].set(stream(job));
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner().unwrap_or_else(|| {
                Err(Error::Recreate {
                    stream: usize::MAX,
                    detail: "a rebuilding thread stopped".into(),
                })
            })
        })
        .collect()
}

/// Runs every job, in order (no threads here).
#[cfg(target_arch = "wasm32")]
fn run_all(
    jobs: &[Job<'_>],
    stream: &(impl Fn(&Job<'_>) -> Result<Vec<u8>> + Sync),
) -> Vec<Result<Vec<u8>>> {
    jobs.iter().map(stream).collect()
}
