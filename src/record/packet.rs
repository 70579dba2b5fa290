//! The recorder's wire format: heartbeats and the two handshake messages, big-endian.
//!
//! A heartbeat datagram is the 40-byte [`Packet`] header, the 8-byte cookie of the
//! session's handshake, and, when the session has a key, a 16-byte tag:
//!
//! ```text
//! offset size field
//!      0    4 magic        b"FDHB"
//!      4    2 version      1
//!      6    2 flags        0 (reserved; other values are rejected)
//!      8    8 session      chosen at random by the sender at start
//!     16    8 seq          heartbeat sequence number, +1 per packet sent, at most 2^63 - 1
//!     24    8 send_ns      CLOCK_REALTIME of the sender when it sent the packet, ns since the Unix epoch
//!     32    8 interval_ns  the sender's nominal interval
//!     40    8 cookie       the receiver's cookie from its challenge (0 before the handshake)
//!     48   16 tag          with a key only: HMAC-SHA256(key, bytes 0..48), first 16 bytes
//! ```
//!
//! The handshake messages (hello from sender to receiver, challenge back) are 32 bytes,
//! plus the tag with a key:
//!
//! ```text
//!      0    4 magic        b"FDHS"
//!      4    2 version      1
//!      6    2 kind         1 hello, 2 challenge
//!      8    8 session      the sender's session
//!     16    8 cookie       challenge: the receiver's cookie for this sender; hello: 0
//!     24    8 interval_ns  hello: the sender's nominal interval; challenge: 0
//!     32   16 tag          with a key only: HMAC-SHA256(key, bytes 0..32), first 16 bytes
//! ```
//!
//! Whether a datagram carries a tag is told by its length. The tag is the HMAC of
//! RFC 2104 truncated to 128 bits as RFC 2104 §5 permits, compared in constant time.
//! [`Packet::decode`] reads the 40-byte header alone (importers of captures use it);
//! [`decode`] reads a whole datagram and checks its tag. Neither panics, whatever the
//! input.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The first four bytes of every heartbeat.
pub const MAGIC: [u8; 4] = *b"FDHB";
/// The first four bytes of every handshake message.
pub const HANDSHAKE_MAGIC: [u8; 4] = *b"FDHS";
/// The packet layout version this code writes and reads.
pub const VERSION: u16 = 1;
/// The size of a heartbeat's header ([`Packet`]) in bytes.
pub const SIZE: usize = 40;
/// The size of an unauthenticated heartbeat datagram: the header and the cookie.
pub const HEARTBEAT_SIZE: usize = SIZE + 8;
/// The size of an unauthenticated handshake message.
pub const HANDSHAKE_SIZE: usize = 32;
/// The size of the authentication tag appended with a key.
pub const TAG_SIZE: usize = 16;
/// The largest datagram of the protocol.
pub const MAX_DATAGRAM: usize = HEARTBEAT_SIZE + TAG_SIZE;
/// The largest sequence number: every seq fits the trace format's signed 64-bit integers.
pub const MAX_SEQ: u64 = i64::MAX as u64;
/// The shortest key accepted, in bytes.
pub const MIN_KEY: usize = 16;

/// One heartbeat's content: the header of a heartbeat datagram.
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

/// Why some bytes are not a message of the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The datagram does not have one of the protocol's sizes.
    #[error("datagram of {0} bytes; a heartbeat has {SIZE} bytes of header, then a cookie and an optional tag")]
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
    /// The sequence number is above [`MAX_SEQ`].
    #[error("seq {0} is above 2^63 - 1, the largest a trace holds")]
    Seq(u64),
    /// A handshake message of an unknown kind, or with fields its kind leaves zero set.
    #[error("malformed handshake message")]
    Handshake,
    /// The tag is missing, unexpected or wrong.
    #[error("authentication failed: a tag is missing, unexpected or wrong (do both ends use the same key?)")]
    Tag,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_be_bytes([b[i], b[i + 1]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_be_bytes(w)
}

impl Packet {
    /// The 40 header bytes of this heartbeat.
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

    /// Parses exactly the 40 header bytes. Any byte string is either a header or an error.
    pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
        let b: &[u8; SIZE] = bytes.try_into().map_err(|_| DecodeError::Size(bytes.len()))?;
        if b[0..4] != MAGIC {
            return Err(DecodeError::Magic);
        }
        let version = u16_at(b, 4);
        if version != VERSION {
            return Err(DecodeError::Version(version));
        }
        let flags = u16_at(b, 6);
        if flags != 0 {
            return Err(DecodeError::Flags(flags));
        }
        let p = Packet {
            session: u64_at(b, 8),
            seq: u64_at(b, 16),
            send_ns: u64_at(b, 24) as i64,
            interval_ns: u64_at(b, 32) as i64,
        };
        if p.send_ns < 0 || p.interval_ns <= 0 {
            return Err(DecodeError::Range {
                send_ns: p.send_ns,
                interval_ns: p.interval_ns,
            });
        }
        if p.seq > MAX_SEQ {
            return Err(DecodeError::Seq(p.seq));
        }
        Ok(p)
    }
}

/// A shared secret that authenticates every datagram of a session (HMAC-SHA256).
#[derive(Clone)]
pub struct Key(Hmac<Sha256>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

/// A key that is too short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the key has {0} byte(s); use at least {MIN_KEY}, e.g. head -c 32 /dev/urandom > KEY")]
pub struct KeyError(pub usize);

impl Key {
    /// A key from its bytes (at least [`MIN_KEY`]).
    pub fn new(bytes: &[u8]) -> Result<Key, KeyError> {
        if bytes.len() < MIN_KEY {
            return Err(KeyError(bytes.len()));
        }
        // HMAC takes keys of any length.
        Hmac::<Sha256>::new_from_slice(bytes)
            .map(Key)
            .map_err(|_| KeyError(bytes.len()))
    }

    fn tag(&self, data: &[u8]) -> [u8; TAG_SIZE] {
        let mut m = self.0.clone();
        m.update(data);
        let full = m.finalize().into_bytes();
        let mut t = [0u8; TAG_SIZE];
        t.copy_from_slice(&full[..TAG_SIZE]);
        t
    }

    fn verify(&self, data: &[u8], tag: &[u8]) -> bool {
        let mut m = self.0.clone();
        m.update(data);
        m.verify_truncated_left(tag).is_ok()
    }
}

/// A whole datagram of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// A heartbeat with the cookie it echoes.
    Heartbeat {
        /// Its content.
        packet: Packet,
        /// The receiver's cookie, 0 before the handshake.
        cookie: u64,
    },
    /// Sender to receiver: a request for a cookie.
    Hello {
        /// The sender's session.
        session: u64,
        /// The sender's nominal interval (positive).
        interval_ns: i64,
    },
    /// Receiver to sender: the cookie that the sender's heartbeats must echo.
    Challenge {
        /// The session it answers.
        session: u64,
        /// The cookie (never 0).
        cookie: u64,
    },
}

const HELLO: u16 = 1;
const CHALLENGE: u16 = 2;

/// Encodes `msg`, with a tag when there is a key.
pub fn encode(msg: &Message, key: Option<&Key>) -> Vec<u8> {
    let mut b = Vec::with_capacity(MAX_DATAGRAM);
    match *msg {
        Message::Heartbeat { packet, cookie } => {
            b.extend_from_slice(&packet.encode());
            b.extend_from_slice(&cookie.to_be_bytes());
        }
        Message::Hello { session, interval_ns } => handshake(&mut b, HELLO, session, 0, interval_ns as u64),
        Message::Challenge { session, cookie } => handshake(&mut b, CHALLENGE, session, cookie, 0),
    }
    if let Some(k) = key {
        let t = k.tag(&b);
        b.extend_from_slice(&t);
    }
    b
}

fn handshake(b: &mut Vec<u8>, kind: u16, session: u64, cookie: u64, interval: u64) {
    b.extend_from_slice(&HANDSHAKE_MAGIC);
    b.extend_from_slice(&VERSION.to_be_bytes());
    b.extend_from_slice(&kind.to_be_bytes());
    b.extend_from_slice(&session.to_be_bytes());
    b.extend_from_slice(&cookie.to_be_bytes());
    b.extend_from_slice(&interval.to_be_bytes());
}

/// Whether `bytes` start like a handshake message (magic `FDHS`), e.g. in a capture.
pub fn is_handshake(bytes: &[u8]) -> bool {
    bytes.starts_with(&HANDSHAKE_MAGIC)
}

/// Decodes a whole datagram. With a key, its tag must be present and right; without
/// one, a datagram with a tag is refused too ([`DecodeError::Tag`]), so that a
/// receiver without the key never records an authenticated sender silently.
pub fn decode(bytes: &[u8], key: Option<&Key>) -> Result<Message, DecodeError> {
    let base = match bytes.get(..4) {
        Some(m) if m == MAGIC => HEARTBEAT_SIZE,
        Some(m) if m == HANDSHAKE_MAGIC => HANDSHAKE_SIZE,
        Some(_) if bytes.len() >= HANDSHAKE_SIZE => return Err(DecodeError::Magic),
        _ => return Err(DecodeError::Size(bytes.len())),
    };
    if bytes.len() != base && bytes.len() != base + TAG_SIZE {
        return Err(DecodeError::Size(bytes.len()));
    }
    let (body, tag) = bytes.split_at(base);
    let version = u16_at(body, 4);
    if version != VERSION {
        return Err(DecodeError::Version(version));
    }
    let msg = if base == HEARTBEAT_SIZE {
        Message::Heartbeat {
            packet: Packet::decode(&body[..SIZE])?,
            cookie: u64_at(body, SIZE),
        }
    } else {
        let (kind, session, cookie, interval) = (u16_at(body, 6), u64_at(body, 8), u64_at(body, 16), u64_at(body, 24));
        match kind {
            HELLO if cookie == 0 && interval > 0 && interval <= i64::MAX as u64 => Message::Hello {
                session,
                interval_ns: interval as i64,
            },
            CHALLENGE if cookie != 0 && interval == 0 => Message::Challenge { session, cookie },
            _ => return Err(DecodeError::Handshake),
        }
    };
    let authentic = match key {
        Some(k) => tag.len() == TAG_SIZE && k.verify(body, tag),
        None => tag.is_empty(),
    };
    if !authentic {
        return Err(DecodeError::Tag);
    }
    Ok(msg)
}

/// The receiver's secret, from which it derives each sender's cookie.
#[derive(Clone)]
pub struct CookieSecret(Hmac<Sha256>);

impl std::fmt::Debug for CookieSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CookieSecret(..)")
    }
}

impl CookieSecret {
    /// A secret from 32 bytes (random in a real receiver, fixed in tests).
    pub fn new(bytes: [u8; 32]) -> CookieSecret {
        CookieSecret(Hmac::<Sha256>::new_from_slice(&bytes).expect("HMAC takes keys of any length"))
    }

    /// A secret from the operating system's random source.
    pub fn random() -> std::io::Result<CookieSecret> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b).map_err(|e| std::io::Error::other(format!("no random numbers: {e}")))?;
        Ok(CookieSecret::new(b))
    }

    /// The cookie of `session` from `source`: a keyed hash, so the receiver keeps no
    /// state per sender it has not locked onto. Never 0.
    pub fn cookie(&self, source: std::net::SocketAddr, session: u64) -> u64 {
        let mut m = self.0.clone();
        match source.ip() {
            std::net::IpAddr::V4(a) => m.update(&a.to_ipv6_mapped().octets()),
            std::net::IpAddr::V6(a) => m.update(&a.octets()),
        }
        m.update(&source.port().to_be_bytes());
        m.update(&session.to_be_bytes());
        let h = m.finalize().into_bytes();
        u64_at(&h, 0).max(1)
    }
}

/// A random 64-bit number from the operating system (a sender's session).
pub fn random_u64() -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).map_err(|e| std::io::Error::other(format!("no random numbers: {e}")))?;
    Ok(u64::from_be_bytes(b))
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

    fn key() -> Key {
        Key::new(b"0123456789abcdef").unwrap()
    }

    #[test]
    fn encodes_big_endian_and_round_trips() {
        let b = P.encode();
        assert_eq!(&b[0..8], b"FDHB\x00\x01\x00\x00");
        assert_eq!(&b[8..16], &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&b[16..24], &[0, 0, 0, 0, 0, 0, 0, 42]);
        assert_eq!(Packet::decode(&b), Ok(P));
        let hb = Message::Heartbeat {
            packet: P,
            cookie: 0xc0,
        };
        let d = encode(&hb, None);
        assert_eq!(d.len(), 48);
        assert_eq!(&d[..40], &b);
        assert_eq!(&d[40..], &[0, 0, 0, 0, 0, 0, 0, 0xc0]);
        assert_eq!(decode(&d, None), Ok(hb));
        let hello = Message::Hello {
            session: 5,
            interval_ns: 7,
        };
        let d = encode(&hello, None);
        assert_eq!(
            d,
            b"FDHS\x00\x01\x00\x01\0\0\0\0\0\0\0\x05\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x07"
        );
        assert_eq!(decode(&d, None), Ok(hello));
        let ch = Message::Challenge { session: 5, cookie: 9 };
        assert_eq!(decode(&encode(&ch, Some(&key())), Some(&key())), Ok(ch));
    }

    #[test]
    fn the_tag_is_the_truncated_hmac_sha256_of_the_body() {
        // RFC 4231 test case 2 (key "Jefe"): HMAC-SHA256 starts 5bdcc146bf60754e6a042426089575c7.
        let m = {
            let mut m = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
            m.update(b"what do ya want for nothing?");
            m.finalize().into_bytes()
        };
        assert_eq!(
            &m[..16],
            &[
                0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24, 0x26, 0x08, 0x95, 0x75, 0xc7
            ]
        );
        let k = key();
        let d = encode(&Message::Heartbeat { packet: P, cookie: 3 }, Some(&k));
        assert_eq!(d.len(), 64);
        assert_eq!(d[48..], k.tag(&d[..48]));
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
        let mut b = good;
        b[16..24].copy_from_slice(&(1u64 << 63).to_be_bytes());
        assert_eq!(Packet::decode(&b), Err(DecodeError::Seq(1 << 63)));
        b[16..24].copy_from_slice(&MAX_SEQ.to_be_bytes());
        assert_eq!(Packet::decode(&b).map(|p| p.seq), Ok(MAX_SEQ));
    }

    #[test]
    fn whole_datagrams_are_checked_for_size_kind_and_tag() {
        let k = key();
        let other = Key::new(b"fedcba9876543210").unwrap();
        let hb = encode(&Message::Heartbeat { packet: P, cookie: 1 }, None);
        assert_eq!(decode(&hb[..47], None), Err(DecodeError::Size(47)));
        assert_eq!(decode(&hb[..40], None), Err(DecodeError::Size(40)));
        assert_eq!(decode(b"FD", None), Err(DecodeError::Size(2)));
        assert_eq!(decode(&[b'x'; 48], None), Err(DecodeError::Magic));
        // A tag where none is expected, none where one is, and a wrong one.
        let tagged = encode(&Message::Heartbeat { packet: P, cookie: 1 }, Some(&k));
        assert_eq!(decode(&tagged, None), Err(DecodeError::Tag));
        assert_eq!(decode(&hb, Some(&k)), Err(DecodeError::Tag));
        assert_eq!(decode(&tagged, Some(&other)), Err(DecodeError::Tag));
        let mut flipped = tagged.clone();
        flipped[20] ^= 1;
        assert_eq!(decode(&flipped, Some(&k)), Err(DecodeError::Tag));
        assert!(decode(&tagged, Some(&k)).is_ok());
        // Handshake messages: kind 3, a hello with a cookie, a challenge with cookie 0.
        let mut h = encode(
            &Message::Hello {
                session: 1,
                interval_ns: 5,
            },
            None,
        );
        h[7] = 3;
        assert_eq!(decode(&h, None), Err(DecodeError::Handshake));
        h[7] = 1;
        h[23] = 1;
        assert_eq!(decode(&h, None), Err(DecodeError::Handshake));
        let mut c = encode(&Message::Challenge { session: 1, cookie: 1 }, None);
        c[23] = 0;
        assert_eq!(decode(&c, None), Err(DecodeError::Handshake));
        assert_eq!(Key::new(b"short").unwrap_err(), KeyError(5));
    }

    #[test]
    fn cookies_depend_on_the_secret_the_source_and_the_session() {
        let s = CookieSecret::new([7; 32]);
        let a: std::net::SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let b: std::net::SocketAddr = "127.0.0.1:5001".parse().unwrap();
        let c = s.cookie(a, 1);
        assert_eq!(c, s.cookie(a, 1));
        assert_ne!(c, 0);
        assert_ne!(c, s.cookie(b, 1));
        assert_ne!(c, s.cookie(a, 2));
        assert_ne!(c, CookieSecret::new([8; 32]).cookie(a, 1));
    }

    proptest::proptest! {
        #[test]
        fn decoding_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = Packet::decode(&bytes);
            let _ = decode(&bytes, None);
            let _ = decode(&bytes, Some(&key()));
        }

        #[test]
        fn decoding_mutated_packets_never_panics(i in 0..SIZE, v in proptest::num::u8::ANY) {
            let mut b = P.encode();
            b[i] = v;
            if let Ok(p) = Packet::decode(&b) {
                proptest::prop_assert_eq!(p.encode(), b);
            }
        }

        #[test]
        fn any_change_to_an_authenticated_datagram_is_refused(i in 0..MAX_DATAGRAM, bit in 0..8u8) {
            let k = key();
            let good = encode(&Message::Heartbeat { packet: P, cookie: 77 }, Some(&k));
            let mut b = good.clone();
            b[i] ^= 1 << bit;
            proptest::prop_assert!(decode(&b, Some(&k)).is_err());
        }
    }
}
