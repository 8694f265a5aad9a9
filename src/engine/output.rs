//! The run's output: whole lines per thread, written under one lock so they never interleave.
//!
//! Whole lines are gathered by a thread into its own `Lines` buffers (reused, so a quiet run
//! formats and allocates nothing per probe) and written under the one output lock, so lines of
//! different threads never interleave. Also the time prefix of `-D`, the self-updating progress
//! line's erasure, and what a closed pipe or a failed write means (the run stops; a closed pipe
//! quietly). The output lock is held across `write(2)` to stdout and stderr — that is what it is
//! for — and never while a host's lock is held, so a stalled terminal delays printing, never the
//! crediting of replies by a thread that is not printing.

use crate::cli::{Config, Format, Show, Timestamps};
use crate::report;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Locks a mutex, recovering the data if a thread panicked while holding it.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// CLOCK_REALTIME in nanoseconds, the clock of kernel timestamps.
pub fn real_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// Lines a thread has formatted and not yet written.
#[derive(Default)]
pub struct Lines {
    pub out: String,
    pub err: String,
}

impl Lines {
    pub fn is_empty(&self) -> bool {
        self.out.is_empty() && self.err.is_empty()
    }

    /// Adds lines of the fping formatter, each on its stream.
    pub fn add_fping(&mut self, out: impl IntoIterator<Item = crate::report::fping::Out>) {
        for o in out {
            match o {
                crate::report::fping::Out::Stdout(s) => self.out.push_str(&s),
                crate::report::fping::Out::Stderr(s) => self.err.push_str(&s),
            }
        }
    }
}

#[derive(Default)]
struct State {
    broken: bool,
    error: Option<io::Error>,
}

/// What the lines of a run look like, and where they go.
pub struct Output {
    state: Mutex<State>,
    /// A progress line is on the terminal (erase it before the next line).
    pub progress_shown: AtomicBool,
    text: bool,
    json: bool,
    timestamps: Timestamps,
}

impl Output {
    pub fn new(cfg: &Config) -> Output {
        let per_probe = !cfg.quiet && cfg.show == Show::All;
        Output {
            state: Mutex::new(State::default()),
            progress_shown: AtomicBool::new(false),
            text: per_probe && cfg.format == Format::Text,
            json: per_probe && cfg.format == Format::Json,
            timestamps: cfg.timestamps,
        }
    }

    /// Per-reply lines in ping's text shape.
    pub fn per_probe_text(&self) -> bool {
        self.text
    }

    /// Per-reply JSON lines.
    pub fn per_probe_json(&self) -> bool {
        self.json
    }

    /// The time prefix of a line (`-D`, `--timestamp`).
    pub fn prefix(&self) -> String {
        match self.timestamps {
            Timestamps::Off => String::new(),
            Timestamps::Epoch => report::epoch_prefix(real_ns()),
            Timestamps::Iso => report::iso_prefix(real_ns()),
        }
    }

    /// Writes and empties `lines`. Returns true when stdout has just failed (a closed pipe
    /// or another write error): the caller stops the run. Must not be called with a host's
    /// lock held.
    pub fn emit(&self, lines: &mut Lines) -> bool {
        if lines.is_empty() {
            return false;
        }
        let mut newly_failed = false;
        let mut st = lock(&self.state);
        if self.progress_shown.swap(false, Ordering::SeqCst) {
            let _ = io::stderr().lock().write_all(b"\r\x1b[K");
        }
        // stdout first and flushed, then stderr: consumers that merge the streams (fping's
        // `2>&1`) read every stdout line before the stderr line that follows it.
        if !lines.out.is_empty() && !st.broken && st.error.is_none() {
            let mut so = io::stdout().lock();
            if let Err(e) = so.write_all(lines.out.as_bytes()).and_then(|_| so.flush()) {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    st.broken = true;
                } else {
                    st.error = Some(e);
                }
                newly_failed = true;
            }
        }
        if !lines.err.is_empty() {
            let _ = io::stderr().lock().write_all(lines.err.as_bytes());
        }
        drop(st);
        lines.out.clear();
        lines.err.clear();
        newly_failed
    }

    /// Runs `f` under the output lock unless stdout has failed (the progress line).
    pub fn with_lock(&self, f: impl FnOnce()) {
        let st = lock(&self.state);
        if !st.broken {
            f();
        }
    }

    /// Erases a progress line for good (under the output lock, so none is redrawn after).
    pub fn clear_progress(&self) {
        let _st = lock(&self.state);
        if self.progress_shown.swap(false, Ordering::SeqCst) {
            let _ = io::stderr().lock().write_all(b"\r\x1b[K");
        }
    }

    /// (stdout was a closed pipe, the write error if another one happened).
    pub fn outcome(&self) -> (bool, Option<io::Error>) {
        let mut st = lock(&self.state);
        (st.broken, st.error.take())
    }
}
