//! The flood rule: below 2 ms between a host's probes or 1 ms between any two, root only.
//!
//! Like iputils ping (2 ms) and fping (1 ms), a user who is not root cannot flood: the capability
//! that lets pingr open a raw socket is not a licence to saturate a network. Pure: the caller
//! passes the real user id and prints what comes back.

use super::Config;
use crate::error::Usage;
use std::time::Duration;

/// The shortest `-i` (time between one host's probes) a user who is not root may ask for.
pub const USER_MIN_INTERVAL: Duration = Duration::from_millis(2);
/// The shortest `--gap` (time between any two probes of the run) for a user who is not root.
pub const USER_MIN_GAP: Duration = Duration::from_millis(1);

/// pingr's own rule: a usage error (exit 3) naming the option, for a user who is not root.
/// One probe (`-c 1`) is no flood, whatever `-i` says.
pub fn check(cfg: &Config, real_uid: u32) -> Result<(), Usage> {
    if real_uid == 0 {
        return Ok(());
    }
    if cfg.interval < USER_MIN_INTERVAL && cfg.count != Some(1) {
        let rule = "below 0.002 seconds is for root only (users cannot flood)";
        return Err(Usage::rule("-i", rule));
    }
    if cfg.gap < USER_MIN_GAP {
        return Err(Usage::rule(
            "--gap",
            "below 1 ms is for root only (users cannot flood)",
        ));
    }
    Ok(())
}

/// fping's rule, in fping's words with pingr's real limits: the two lines (each ending in a
/// newline) to print to stderr before exiting 1, as fping does (Zabbix reads the numbers from
/// the second line); None when the run may go on. fping's `-p` is pingr's `-i` and its `-i`
/// pingr's `--gap`.
pub fn fping(cfg: &Config, prog: &str, real_uid: u32) -> Option<String> {
    if real_uid == 0 || (cfg.interval >= USER_MIN_INTERVAL && cfg.gap >= USER_MIN_GAP) {
        return None;
    }
    Some(format!(
        "{prog}: these options are too risky for mere mortals.\n{prog}: You need -i >= {} and -p >= {}\n",
        USER_MIN_GAP.as_secs() * 1000 + u64::from(USER_MIN_GAP.subsec_millis()),
        USER_MIN_INTERVAL.as_secs() * 1000 + u64::from(USER_MIN_INTERVAL.subsec_millis())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::cfg;

    #[test]
    fn only_root_may_flood() {
        let flood = cfg(&["-i", "0", "-c", "5", "h"]);
        assert!(check(&flood, 0).is_ok());
        let e = check(&flood, 1000).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("-i"));
        assert!(e.to_string().starts_with("-i: "), "{e}");
        assert_eq!(crate::error::Error::from(e).exit_status(), 3);
        assert!(check(&cfg(&["-i", "0", "-c", "1", "h"]), 1000).is_ok());
        assert!(check(&cfg(&["-i", "0.002", "h"]), 1000).is_ok());
        let gap = cfg(&["--gap", "0.5", "h"]);
        assert!(check(&gap, 0).is_ok());
        let e = check(&gap, 1000).unwrap_err();
        assert_eq!(e.option.as_deref(), Some("--gap"));
        assert!(e.to_string().starts_with("--gap: "));
        assert!(check(&cfg(&["h"]), 1000).is_ok());
    }

    #[test]
    fn fping_says_it_in_fpings_words() {
        let flood = cfg(&["-i", "0.001", "h"]);
        assert_eq!(fping(&flood, "fping", 0), None);
        assert_eq!(fping(&cfg(&["h"]), "fping", 1000), None);
        assert_eq!(
            fping(&flood, "fping", 1000).as_deref(),
            Some("fping: these options are too risky for mere mortals.\nfping: You need -i >= 1 and -p >= 2\n")
        );
        let gap = cfg(&["--gap", "0.5", "h"]);
        assert!(fping(&gap, "fping6", 1000).is_some_and(|m| m.starts_with("fping6: ")));
    }
}
