//! The packet codec's unit tests, beside the code but out of its files (tests only).
//!
//! `fixtures` builds valid packets of every kind (and the decoder harness that cross-checks every
//! accepted buffer against its bytes), `echo` tests the echo request header and payload, `decode`
//! the hand-made IPv4 and ICMPv6 cases, `errors` the error kinds and their texts, `fuzz` every
//! truncation, every single-byte mutation and random garbage. Tests only: nothing here may be used
//! by the program.

mod decode;
mod echo;
mod errors;
mod fixtures;
mod fuzz;
