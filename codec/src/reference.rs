//! Random access to a reference that need not be in memory.

use std::io;

/// Where the streaming decoder reads reference bytes from: memory, a file, a cache, or
/// ranged reads of a remote object. Each delta window asks for one contiguous range.
pub trait ReferenceReader {
    /// Total length of the reference.
    fn len(&self) -> u64;

    /// Whether the reference is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fills all of `buf` with the reference bytes starting at `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
}

impl ReferenceReader for &[u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let range = usize::try_from(offset)
            .ok()
            .and_then(|start| Some(start..start.checked_add(buf.len())?))
            .filter(|r| r.end <= <[u8]>::len(self))
            .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end"))?;
        buf.copy_from_slice(&self[range]);
        Ok(())
    }
}

/// A reference in a file, read with positioned reads (no seeking, no shared cursor).
#[cfg(unix)]
#[derive(Debug)]
pub struct FileReference {
    file: std::fs::File,
    len: u64,
}

#[cfg(unix)]
impl FileReference {
    /// Opens `path` and records its length.
    pub fn open(path: impl AsRef<std::path::Path>) -> io::Result<Self> {
        let file = std::fs::File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self { file, len })
    }
}

#[cfg(unix)]
impl ReferenceReader for FileReference {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
    }
}
