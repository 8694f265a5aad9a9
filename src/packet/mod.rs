//! ICMP echo wire formats for IPv4 and IPv6, as one codec in a few files.
//!
//! This file is only the facade: the re-exports that keep every caller's path
//! `crate::packet::X`; nothing is defined here, and no child imports it (each imports the
//! siblings it builds on, so the files form one layered graph). Its children, bottom up: `wire` (the address [`Family`],
//! the [`Ident`] and [`Seq`] newtypes, protocol numbers, the bounds-checked byte readers),
//! `errors` (ICMP error kinds and their texts), `message` (the decoded [`Message`] and
//! [`ParseError`]), `echo` (the echo request we send: header and payload), `ipv4` (raw IPv4
//! reads and ICMPv4), `icmpv6` (ICMPv6 with its quoted extension headers), `tests`
//! (fixtures, decoding cases, fuzzing).
//!
//! The whole module is pure: it must not touch sockets, clocks, or global state, must not
//! decide which replies belong to us (callers match ident, sequence and payload tag), and
//! must never panic on hostile input: every field is read through the helpers in `wire`, and
//! every length found in a header is checked against the bytes actually given, never
//! assumed.

pub mod echo;
mod errors;
mod icmpv6;
mod ipv4;
mod message;
#[cfg(test)]
mod tests;
mod wire;

pub use echo::{echo_request_id, encode_echo_request, set_sequence};
pub use errors::{error_kind, ErrorKind};
pub use icmpv6::parse_icmp6;
pub use ipv4::{parse_icmp4, parse_ipv4};
// What the decoders return; callers read its fields and match its errors without naming
// the types (tests do).
pub use message::Message;
pub use wire::{Family, Ident, Seq, ICMP_HEADER_LEN};
#[allow(unused_imports)]
pub use {ipv4::Ipv4Packet, message::ParseError};
