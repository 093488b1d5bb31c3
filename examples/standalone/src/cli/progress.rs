//! A one-line progress count on standard error, redrawn in place, when it is a terminal
//! (never in a pipe or a log).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Objects and bytes done out of a known total.
pub(crate) struct Progress {
    what: &'static str,
    objects: (u64, u64),
    bytes: (u64, u64),
    shown: Option<Instant>,
    on: bool,
}

impl Progress {
    /// Counting `what` (a past participle: "verified") over `objects` objects of `bytes`.
    pub(crate) fn new(what: &'static str, objects: u64, bytes: u64) -> Self {
        Self {
            what,
            objects: (0, objects),
            bytes: (0, bytes),
            shown: None,
            on: std::io::stderr().is_terminal(),
        }
    }

    /// One more object, of `bytes`, done.
    pub(crate) fn advance(&mut self, bytes: u64) {
        self.objects.0 += 1;
        self.bytes.0 += bytes;
        if self.on
            && self
                .shown
                .is_none_or(|t| t.elapsed() > Duration::from_millis(200))
        {
            self.draw();
            self.shown = Some(Instant::now());
        }
    }

    /// Clears the line.
    pub(crate) fn finish(&mut self) {
        if self.on && self.shown.is_some() {
            eprint!("\r\x1b[2K");
        }
    }

    fn draw(&self) {
        let percent = if self.bytes.1 == 0 {
            100.0
        } else {
            100.0 * self.bytes.0 as f64 / self.bytes.1 as f64
        };
        eprint!(
            "\r\x1b[2K{} {}/{} objects, {:.1}/{:.1} MB ({percent:.0} %)",
            self.what,
            self.objects.0,
            self.objects.1,
            self.bytes.0 as f64 / 1e6,
            self.bytes.1 as f64 / 1e6,
        );
        let _ = std::io::stderr().flush();
    }
}
