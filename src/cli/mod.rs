//! The command line: the one `Config` both grammars produce, and the grammar chosen by name.
//!
//! A facade: the types are in `config`, re-exported here, and the grammar is chosen here by program
//! name. pingr's own (iputils-shaped) options are in `options` (the table, `--help`, `--version`)
//! and [`ping`] (parsing), fping's (when called as `fping` or `fping6`) in [`fping`], and the pure
//! value parsers they share in [`values`]. Everything here is pure: no I/O, no name resolution, no
//! sockets; `main` prints the texts and errors, and exits.

mod config;
pub mod flood;
pub mod fping;
mod options;
pub mod ping;
pub mod values;

use crate::packet::Family;

pub use config::*;
pub use options::{usage, version};
pub use ping::parse;

// ---- fping personality (issue 11) -------------------------------------------------------

/// Which command line and output family a run speaks, chosen once by program name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Personality {
    Pingr,
    /// Called as `fping` (basename), or by any name containing `fping6`, whose `family`
    /// is IPv6 (as if `-6` were given).
    Fping {
        family: Option<Family>,
    },
}

/// The personality `argv[0]` asks for: the BusyBox way, one binary, behaviour by name.
pub fn personality(argv0: &str) -> Personality {
    let base = argv0.rsplit('/').next().unwrap_or(argv0);
    if base.contains("fping6") {
        Personality::Fping {
            family: Some(Family::V6),
        }
    } else if base == "fping" {
        Personality::Fping { family: None }
    } else {
        Personality::Pingr
    }
}
