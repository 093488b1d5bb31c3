//! Window encoder on oxidelta's match engine and VCDIFF writer.
//!
//! oxidelta's own `DeltaEncoder` is not used: its instruction optimiser merges adjacent
//! RUNs without checking that they repeat the same byte, so a target such as
//! `[0; 97] ++ [1; 97]` encodes to a delta that fails its own Adler-32 check. This
//! encoder keeps oxidelta's matcher and serialiser and does the optimising itself. It also
//! narrows each window's source segment to the reference bytes the window actually copies,
//! so a streaming decoder reads only those.

use std::io::{self, Write};

use oxidelta::hash::config::config_for_level;
use oxidelta::hash::matching::MatchEngine;
use oxidelta::vcdiff::code_table::Instruction;
use oxidelta::vcdiff::encoder::{SourceWindow, WindowEncoder};

use crate::vcdiff::MAGIC;

/// Target bytes per window, the same as xdelta3's default.
pub(crate) const WINDOW_SIZE: usize = 1 << 23;
/// Shortest run worth a RUN instruction.
const MIN_RUN: usize = 8;

pub(crate) struct PureEncoder<'r> {
    reference: &'r [u8],
    engine: MatchEngine,
    window_size: usize,
    buffer: Vec<u8>,
    header_written: bool,
    windows: u64,
}

impl<'r> PureEncoder<'r> {
    /// Indexes `reference`. `target_len`, when known, keeps small targets from paying for
    /// a full-window hash table.
    pub(crate) fn new(reference: &'r [u8], target_len: Option<u64>, level: u8) -> Self {
        let window_size = target_len.map_or(WINDOW_SIZE, |len| {
            (len.min(WINDOW_SIZE as u64) as usize).max(64)
        });
        let mut engine = MatchEngine::new(
            config_for_level(u32::from(level.clamp(1, 9))),
            reference.len() as u64,
            window_size,
        );
        if !reference.is_empty() {
            engine.index_source(&reference);
        }
        Self {
            reference,
            engine,
            window_size,
            buffer: Vec::new(),
            header_written: false,
            windows: 0,
        }
    }

    /// Encodes every complete window of `data` (after what is buffered) into `out`.
    pub(crate) fn push(&mut self, mut data: &[u8], out: &mut impl Write) -> io::Result<()> {
        if !self.buffer.is_empty() {
            let take = (self.window_size - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() < self.window_size {
                return Ok(());
            }
            let window = std::mem::take(&mut self.buffer);
            self.encode_window(&window, out)?;
            self.buffer = window;
            self.buffer.clear();
        }
        while data.len() >= self.window_size {
            let (window, rest) = data.split_at(self.window_size);
            self.encode_window(window, out)?;
            data = rest;
        }
        self.buffer.extend_from_slice(data);
        Ok(())
    }

    /// Encodes what is buffered; an empty target still gets one (empty) window.
    pub(crate) fn finish(mut self, out: &mut impl Write) -> io::Result<()> {
        if !self.buffer.is_empty() || self.windows == 0 {
            let window = std::mem::take(&mut self.buffer);
            self.encode_window(&window, out)?;
        }
        Ok(())
    }

    fn encode_window(&mut self, window: &[u8], out: &mut impl Write) -> io::Result<()> {
        if !self.header_written {
            out.write_all(&MAGIC)?;
            out.write_all(&[0])?;
            self.header_written = true;
        }
        let raw = if window.is_empty() {
            Vec::new()
        } else if self.reference.is_empty() {
            self.engine.find_matches(window, None::<&&[u8]>)
        } else {
            self.engine.find_matches(window, Some(&self.reference))
        };
        let reference_len = self.reference.len() as u64;
        let instructions = optimize(&raw, window, reference_len);
        let segment = source_segment(&instructions, reference_len);
        let mut encoder = WindowEncoder::new(
            segment.as_ref().map(|s| SourceWindow {
                offset: s.start,
                len: s.end - s.start,
            }),
            true,
        );
        let (start, copy_len) = segment.map_or((0, 0), |s| (s.start, s.end - s.start));
        let mut pos = 0usize;
        for instruction in &instructions {
            match *instruction {
                Instruction::Add { len } => encoder.add(&window[pos..pos + len as usize]),
                Instruction::Run { len } => encoder.run(len, window[pos]),
                Instruction::Copy { len, addr, .. } => {
                    // Re-base addresses on the narrowed segment: [segment][this window].
                    let addr = if addr < reference_len {
                        addr - start
                    } else {
                        addr - reference_len + copy_len
                    };
                    encoder.copy_with_auto_mode(len, addr);
                }
            }
            pos += len_of(instruction) as usize;
        }
        self.windows += 1;
        out.write_all(&encoder.finish(Some(window)))
    }
}

fn len_of(instruction: &Instruction) -> u32 {
    match *instruction {
        Instruction::Add { len } | Instruction::Run { len } | Instruction::Copy { len, .. } => len,
    }
}

/// The smallest reference range covering every copy from the reference.
fn source_segment(
    instructions: &[Instruction],
    reference_len: u64,
) -> Option<std::ops::Range<u64>> {
    instructions
        .iter()
        .filter_map(|i| match *i {
            Instruction::Copy { len, addr, .. } if addr < reference_len => {
                Some(addr..addr + u64::from(len))
            }
            _ => None,
        })
        .reduce(|a, b| a.start.min(b.start)..a.end.max(b.end))
}

/// Merges adjacent ADDs, contiguous COPYs from the same side of the reference/target
/// boundary and RUNs of the same byte, and splits long runs out of ADDs. Coverage of
/// `target` is preserved exactly.
fn optimize(raw: &[Instruction], target: &[u8], reference_len: u64) -> Vec<Instruction> {
    let mut merged: Vec<(usize, Instruction)> = Vec::with_capacity(raw.len());
    let mut pos = 0usize;
    for &instruction in raw {
        let len = len_of(&instruction);
        if len == 0 {
            continue;
        }
        let joined = merged
            .last()
            .and_then(|&(last_pos, last)| match (last, instruction) {
                (Instruction::Add { len: a }, Instruction::Add { len: b }) => {
                    a.checked_add(b).map(|len| Instruction::Add { len })
                }
                (Instruction::Run { len: a }, Instruction::Run { len: b })
                    if target[last_pos] == target[pos] =>
                {
                    a.checked_add(b).map(|len| Instruction::Run { len })
                }
                (
                    Instruction::Copy {
                        len: a,
                        addr: x,
                        mode,
                    },
                    Instruction::Copy {
                        len: b, addr: y, ..
                    },
                ) if y == x + u64::from(a) && (x < reference_len) == (y < reference_len) => a
                    .checked_add(b)
                    .map(|len| Instruction::Copy { len, addr: x, mode }),
                _ => None,
            });
        match (joined, merged.last_mut()) {
            (Some(j), Some(last)) => last.1 = j,
            _ => merged.push((pos, instruction)),
        }
        pos += len as usize;
    }
    let mut out = Vec::with_capacity(merged.len() + 8);
    for (at, instruction) in merged {
        match instruction {
            Instruction::Add { len } => split_runs(&target[at..at + len as usize], &mut out),
            other => out.push(other),
        }
    }
    out
}

/// An ADD of `data` as ADDs and RUNs of at least [`MIN_RUN`] bytes.
fn split_runs(data: &[u8], out: &mut Vec<Instruction>) {
    let mut literal_start = 0;
    let mut i = 0;
    while i < data.len() {
        let run = data[i..].iter().take_while(|&&b| b == data[i]).count();
        if run >= MIN_RUN {
            if literal_start < i {
                out.push(Instruction::Add {
                    len: (i - literal_start) as u32,
                });
            }
            out.push(Instruction::Run { len: run as u32 });
            literal_start = i + run;
        }
        i += run;
    }
    if literal_start < data.len() {
        out.push(Instruction::Add {
            len: (data.len() - literal_start) as u32,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_different_bytes_stay_apart() {
        let target = [[0u8; 20], [1u8; 20]].concat();
        let raw = [Instruction::Run { len: 20 }, Instruction::Run { len: 20 }];
        assert_eq!(optimize(&raw, &target, 0).len(), 2);
        let same = [0u8; 40];
        assert_eq!(optimize(&raw, &same, 0), vec![Instruction::Run { len: 40 }]);
    }

    #[test]
    fn copies_never_merge_across_the_reference_end() {
        // A copy ending at the reference's end, then one from the target's start.
        let raw = [
            Instruction::Copy {
                len: 10,
                addr: 90,
                mode: 0,
            },
            Instruction::Copy {
                len: 5,
                addr: 100,
                mode: 0,
            },
            Instruction::Copy {
                len: 5,
                addr: 105,
                mode: 0,
            },
        ];
        let merged = optimize(&raw, &[0; 20], 100);
        assert_eq!(
            merged,
            vec![
                Instruction::Copy {
                    len: 10,
                    addr: 90,
                    mode: 0
                },
                Instruction::Copy {
                    len: 10,
                    addr: 100,
                    mode: 0
                },
            ]
        );
    }

    #[test]
    fn adds_split_around_long_runs() {
        let data = [b"abc".as_slice(), &[7u8; 10], b"de", &[9u8; 3]].concat();
        let mut out = Vec::new();
        split_runs(&data, &mut out);
        assert_eq!(
            out,
            vec![
                Instruction::Add { len: 3 },
                Instruction::Run { len: 10 },
                Instruction::Add { len: 5 },
            ]
        );
    }
}
