//! Tests of the ICMP error kinds and their texts (tests only).
//!
//! The type and code mapping of both families (MTUs included) and the text printed for every code.
//! Tests only.

use crate::packet::*;

#[test]
fn error_kind_mapping() {
    let v4 = Family::V4;
    let v6 = Family::V6;
    assert_eq!(
        error_kind(v4, 3, 4, &[]),
        Some(ErrorKind::PacketTooBig(v4, 0))
    );
    assert_eq!(
        error_kind(v4, 3, 4, &[3, 4, 0, 0, 0, 0, 0x05, 0xdc]),
        Some(ErrorKind::PacketTooBig(v4, 1500))
    );
    // A header synthesized from sock_extended_err's ee_info.
    let mut synth = vec![3, 4, 0, 0];
    synth.extend_from_slice(&1492u32.to_be_bytes());
    assert_eq!(
        error_kind(v4, 3, 4, &synth),
        Some(ErrorKind::PacketTooBig(v4, 1492))
    );
    synth[0] = 2;
    assert_eq!(
        error_kind(v6, 2, 0, &synth),
        Some(ErrorKind::PacketTooBig(v6, 1492))
    );
    assert_eq!(
        error_kind(v6, 2, 0, &[2, 0]),
        Some(ErrorKind::PacketTooBig(v6, 0))
    );
    assert_eq!(
        error_kind(v4, 3, 3, &[]),
        Some(ErrorKind::Unreachable(v4, 3))
    );
    assert_eq!(error_kind(v4, 4, 0, &[]), Some(ErrorKind::SourceQuench));
    assert_eq!(error_kind(v4, 5, 2, &[]), Some(ErrorKind::Redirect(2)));
    assert_eq!(
        error_kind(v4, 11, 1, &[]),
        Some(ErrorKind::TimeExceeded(v4, 1))
    );
    assert_eq!(
        error_kind(v4, 12, 2, &[]),
        Some(ErrorKind::ParameterProblem(v4, 2))
    );
    assert_eq!(
        error_kind(v6, 1, 3, &[]),
        Some(ErrorKind::Unreachable(v6, 3))
    );
    assert_eq!(
        error_kind(v6, 3, 1, &[]),
        Some(ErrorKind::TimeExceeded(v6, 1))
    );
    assert_eq!(
        error_kind(v6, 4, 0, &[]),
        Some(ErrorKind::ParameterProblem(v6, 0))
    );
    for t in [0u8, 8, 13, 128, 129] {
        assert_eq!(error_kind(v4, t, 0, &[]), None);
        assert_eq!(error_kind(v6, t, 0, &[]), None);
    }
    // Each family's types are not the other's.
    assert_eq!(error_kind(v6, 11, 0, &[]), None);
    assert_eq!(error_kind(v6, 5, 0, &[]), None);
    assert_eq!(error_kind(v4, 1, 0, &[]), None);
    assert_eq!(error_kind(v4, 2, 0, &[]), None);
}

#[test]
fn error_kind_display() {
    let v4 = Family::V4;
    let v6 = Family::V6;
    // Each kind's constructor, with (code or MTU, text) pairs.
    type Make = fn(u32) -> ErrorKind;
    let cases: [(Make, &[(u32, &str)]); 10] = [
        (
            |c| ErrorKind::Unreachable(Family::V4, c as u8),
            &[
                (0, "Destination Net Unreachable"),
                (1, "Destination Host Unreachable"),
                (2, "Destination Protocol Unreachable"),
                (3, "Destination Port Unreachable"),
                (5, "Source Route Failed"),
                (13, "Communication prohibited by filter"),
                (16, "Dest Unreachable, Bad Code: 16"),
            ],
        ),
        (
            |m| ErrorKind::PacketTooBig(Family::V4, m),
            &[(1400, "Frag needed and DF set (mtu = 1400)")],
        ),
        (
            |c| ErrorKind::TimeExceeded(Family::V4, c as u8),
            &[
                (0, "Time to live exceeded"),
                (1, "Frag reassembly time exceeded"),
                (9, "Time exceeded, Bad Code: 9"),
            ],
        ),
        (
            |c| ErrorKind::ParameterProblem(Family::V4, c as u8),
            &[(0, "Parameter problem")],
        ),
        (|_| ErrorKind::SourceQuench, &[(0, "Source Quench")]),
        (
            |c| ErrorKind::Redirect(c as u8),
            &[(1, "Redirect Host"), (7, "Redirect, Bad Code: 7")],
        ),
        (
            |c| ErrorKind::Unreachable(Family::V6, c as u8),
            &[
                (0, "Destination unreachable: No route"),
                (1, "Destination unreachable: Administratively prohibited"),
                (2, "Destination unreachable: Beyond scope of source address"),
                (3, "Destination unreachable: Address unreachable"),
                (4, "Destination unreachable: Port unreachable"),
                (99, "Destination unreachable: Unknown code 99"),
            ],
        ),
        (
            |m| ErrorKind::PacketTooBig(Family::V6, m),
            &[(1280, "Packet too big: mtu=1280")],
        ),
        (
            |c| ErrorKind::TimeExceeded(Family::V6, c as u8),
            &[
                (0, "Time exceeded: Hop limit"),
                (1, "Time exceeded: Defragmentation failure"),
            ],
        ),
        (
            |c| ErrorKind::ParameterProblem(Family::V6, c as u8),
            &[
                (1, "Parameter problem: Unknown header"),
                (200, "Parameter problem: code 200"),
            ],
        ),
    ];
    for (make, texts) in cases {
        for &(n, text) in texts {
            assert_eq!(make(n).to_string(), text);
        }
    }
    // Every code of every kind prints something, with the number if unknown.
    for code in 0..=255u8 {
        for family in [v4, v6] {
            for kind in [
                ErrorKind::Unreachable(family, code),
                ErrorKind::TimeExceeded(family, code),
                ErrorKind::ParameterProblem(family, code),
            ] {
                assert!(!kind.to_string().is_empty());
            }
        }
        if code > 15 {
            assert!(ErrorKind::Unreachable(v4, code)
                .to_string()
                .contains(&code.to_string()));
            assert!(ErrorKind::Unreachable(v6, code)
                .to_string()
                .contains(&code.to_string()));
            assert!(ErrorKind::Redirect(code)
                .to_string()
                .contains(&code.to_string()));
        }
    }
}
