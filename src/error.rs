//! The one table of exit statuses and the errors that end a run early.
//!
//! `main` is the only place that turns these into a process exit; nothing here prints.

use std::fmt;
use std::io;

/// Exit statuses (mirrored in the man page's EXIT STATUS and in the tests).
pub const EXIT_ALL_ANSWERED: u8 = 0;
pub const EXIT_SOME_SILENT: u8 = 1;
pub const EXIT_UNRESOLVED: u8 = 2;
pub const EXIT_USAGE: u8 = 3;
pub const EXIT_SYSTEM: u8 = 4;

/// An error that stops pingr before or instead of a report.
#[derive(Debug)]
pub enum Error {
    /// A bad command line: nothing was resolved or sent.
    Usage(String),
    /// No usable socket, privilege, or resource; or an output failure.
    System(String),
}

impl Error {
    pub fn exit_status(&self) -> u8 {
        match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::System(_) => EXIT_SYSTEM,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) | Error::System(m) => f.write_str(m),
        }
    }
}

/// An io::Error's text without the "(os error N)" tail.
pub fn short(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// The status of a run that reached its report: 2 if any name did not resolve (it takes
/// precedence), else 1 if any target never answered, else 0.
pub fn run_status(unresolved: bool, silent: bool) -> u8 {
    if unresolved {
        EXIT_UNRESOLVED
    } else if silent {
        EXIT_SOME_SILENT
    } else {
        EXIT_ALL_ANSWERED
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_table() {
        assert_eq!(run_status(false, false), 0);
        assert_eq!(run_status(false, true), 1);
        assert_eq!(run_status(true, false), 2);
        assert_eq!(run_status(true, true), 2);
        assert_eq!(Error::Usage("x".into()).exit_status(), 3);
        assert_eq!(Error::System("x".into()).exit_status(), 4);
    }
}
