//! The one integration test crate: every test runs the built binary against real hosts
//! (loopback, network namespaces and veth pairs the test creates), as root or as users made
//! with `setpriv`. `common` holds the shared helpers (namespaces, users, the responder, runs
//! with a timeout, skips); each other module is one area. A new test goes in the module of
//! its area; a helper two areas need goes in `common`. Tests that need root print why they
//! skip; with `PINGR_REQUIRE_ROOT=1` a skip is a failure.

mod common;

mod basic;
mod cli;
mod filter;
mod fping;
mod hostile;
mod install;
mod layout;
mod monitoring;
mod privileges;
mod responder_selftest;
mod schedule;
mod workflows;
