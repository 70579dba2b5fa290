//! The heartbeat packet: 40 bytes, big-endian.
//!
//! ```text
//! offset size field
//!      0    4 magic        b"FDHB"
//!      4    2 version      1
//!      6    2 flags        0 (reserved; other values are rejected)
//!      8    8 session      chosen by the sender at start; a receiver follows one session
//!     16    8 seq          heartbeat sequence number, +1 per packet sent
//!     24    8 send_ns      CLOCK_REALTIME of the sender when it sent the packet, ns since the Unix epoch
//!     32    8 interval_ns  the sender's nominal interval
//! ```
//!
//! [`Packet::decode`] accepts exactly these 40 bytes and returns an error for anything
//! else; it never panics, whatever the input.

/// The first four bytes of every heartbeat packet.
pub const MAGIC: [u8; 4] = *b"FDHB";
/// The packet layout version this code writes and reads.
pub const VERSION: u16 = 1;
/// The size of a packet in bytes.
pub const SIZE: usize = 40;

/// One heartbeat as it travels on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Identifies one run of a sender, so that a receiver ignores a restarted or foreign sender.
    pub session: u64,
    /// Sequence number, incremented by one for each packet sent.
    pub seq: u64,
    /// Send time on the sender's `CLOCK_REALTIME`, nanoseconds since the Unix epoch.
    pub send_ns: i64,
    /// The sender's nominal interval in nanoseconds (positive).
    pub interval_ns: i64,
}

/// Why some bytes are not a heartbeat packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The datagram does not have the packet size.
    #[error("packet of {0} bytes; a heartbeat packet has exactly {SIZE}")]
    Size(usize),
    /// The magic number is wrong: not an fdbench heartbeat.
    #[error("bad magic number; not an fdbench heartbeat")]
    Magic,
    /// A layout version this code does not know.
    #[error("packet version {0}; this fdbench reads version {VERSION}")]
    Version(u16),
    /// Reserved flags are set.
    #[error("reserved flags {0:#06x} are set")]
    Flags(u16),
    /// The send time or interval is out of range.
    #[error("send time or interval out of range (send_ns {send_ns}, interval_ns {interval_ns})")]
    Range {
        /// The send time found.
        send_ns: i64,
        /// The interval found.
        interval_ns: i64,
    },
}

impl Packet {
    /// The 40 bytes of this packet.
    pub fn encode(&self) -> [u8; SIZE] {
        let mut b = [0u8; SIZE];
        b[0..4].copy_from_slice(&MAGIC);
        b[4..6].copy_from_slice(&VERSION.to_be_bytes());
        b[6..8].copy_from_slice(&0u16.to_be_bytes());
        b[8..16].copy_from_slice(&self.session.to_be_bytes());
        b[16..24].copy_from_slice(&self.seq.to_be_bytes());
        b[24..32].copy_from_slice(&self.send_ns.to_be_bytes());
        b[32..40].copy_from_slice(&self.interval_ns.to_be_bytes());
        b
    }

    /// Parses a datagram. Any byte string is either a packet or an error.
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        let b: &[u8; SIZE] = bytes.try_into().map_err(|_| DecodeError::Size(bytes.len()))?;
        if b[0..4] != MAGIC {
            return Err(DecodeError::Magic);
        }
        let u16_at = |i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
        let u64_at = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(w)
        };
        let version = u16_at(4);
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let flags = u16_at(6);
        if flags != 0 {
            return Err(DecodeError::Flags(flags));
        }
        let p = Packet {
            session: u64_at(8),
            seq: u64_at(16),
            send_ns: u64_at(24) as i64,
            interval_ns: u64_at(32) as i64,
        };
        if p.send_ns < 0 || p.interval_ns <= 0 {
            return Err(DecodeError::Range {
                send_ns: p.send_ns,
                interval_ns: p.interval_ns,
            });
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Packet = Packet {
        session: 0x0102_0304_0506_0708,
        seq: 42,
        send_ns: 1_732_550_000_123_456_789,
        interval_ns: 100_000_000,
    };

    #[test]
    fn encodes_big_endian_and_round_trips() {
        let b = P.encode();
        assert_eq!(&b[0..8], b"FDHB\x00\x01\x00\x00");
        assert_eq!(&b[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[16..24], &[0, 0, 0, 0, 0, 0, 0, 42]);
        assert_eq!(Packet::decode(&b), Ok(P));
    }

    #[test]
    fn rejects_every_kind_of_bad_packet() {
        let good = P.encode();
        assert_eq!(Packet::decode(&good[..39]), Err(DecodeError::Size(39)));
        assert_eq!(Packet::decode(&[]), Err(DecodeError::Size(0)));
        let mut long = good.to_vec();
        long.push(0);
        assert_eq!(Packet::decode(&long), Err(DecodeError::Size(41)));
        let mut b = good;
        b[0] = b'X';
        assert_eq!(Packet::decode(&b), Err(DecodeError::Magic));
        let mut b = good;
        b[5] = 2;
        assert_eq!(Packet::decode(&b), Err(DecodeError::Version(2)));
        let mut b = good;
        b[7] = 1;
        assert_eq!(Packet::decode(&b), Err(DecodeError::Flags(1)));
        let mut b = good;
        b[24] = 0x80;
        assert!(matches!(Packet::decode(&b), Err(DecodeError::Range { .. })));
        let mut b = good;
        b[32..40].copy_from_slice(&0u64.to_be_bytes());
        assert!(matches!(Packet::decode(&b), Err(DecodeError::Range { .. })));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = Packet::decode(&bytes);
        }

        #[test]
        fn decoding_mutated_packets_never_panics(i in 0..SIZE, v in proptest::num::u8::ANY) {
            let mut b = P.encode();
            b[i] = v;
            if let Ok(p) = Packet::decode(&b) {
                proptest::prop_assert_eq!(p.encode(), b);
            }
        }
    }
}
