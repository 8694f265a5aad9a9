//! Running pingr as root inside a namespace of the test, and checking how it ended.

use super::*;

/// A fresh namespace for a test that needs root; None after [`require_root`]'s SKIP.
pub fn root_netns(test: &str) -> Option<Netns> {
    require_root(test).then(Netns::new)
}

/// `pingr ARGS` as root inside `ns`, killed (a failure) after `secs` seconds.
pub fn pingr_in<S: AsRef<OsStr>>(ns: &Netns, args: &[S], secs: u64) -> Output {
    run_with_timeout(&mut ns.wrap(&pingr_cmd(args)), secs)
}

/// The run ended with exit status `code`; otherwise a failure showing its whole output.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}", describe(o));
}
