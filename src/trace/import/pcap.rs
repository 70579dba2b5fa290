//! Packet captures (`tcpdump -w`, pcap or pcapng) split into one trace per flow.
//!
//! A **flow** is the packets of one protocol (UDP or TCP) from one source address and
//! port to one destination address and port. Every packet that passes the filters
//! ([`Options`]) is one receipt of its flow, at its capture timestamp: the capture is
//! taken to have been made on the monitor (the receiving host), so that the capture
//! time is the receipt time on the monitor's clock.
//!
//! - **fdbench heartbeats.** A flow whose first payload is an fdbench heartbeat packet
//!   (`crate::record::packet`: magic `FDHB`, version 1, then session, seq, send_ns and
//!   interval_ns, big-endian, at fixed offsets) is decoded exactly: each packet's `seq`
//!   and send time come from the packet, so losses and reordering are known. Bytes after
//!   the 40-byte header (the handshake's cookie, an authentication tag) are ignored;
//!   the recorder's handshake messages (magic `FDHS`) are counted as filtered. The flow follows the
//!   session of its first heartbeat; packets of another session or not heartbeats are
//!   counted and skipped. Send times are the sender's `CLOCK_REALTIME` and are written
//!   only with `assume_synced` (the capture host and the sender share a clock: one
//!   host, network namespaces, or synchronized clocks). The nominal interval is the
//!   packets'.
//! - **Any other payload.** Each packet is one heartbeat arrival: `seq` counts the
//!   flow's packets from 1 in capture order, there are no send times, and the nominal
//!   interval is inferred. This assumes that the flow carries one message per heartbeat
//!   and that none is lost or duplicated (a lost one is invisible: its gap is only a
//!   long inter-arrival time).
//!
//! Times in every trace are nanoseconds since one origin for the whole capture, the
//! earliest capture or send time in it minus [`super::ORIGIN_SLACK`], written as the
//! comment `epoch_unix_ns=N` (as the recorder does), so that the traces of one capture
//! share one time base. A flow of fewer than two packets makes no trace and is left
//! out (counted). Within a flow, rows are sorted by `seq`; a repeated `seq`
//! keeps its first receipt and is counted.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

use crate::record::packet;
use crate::time::Nanos;
use crate::trace::csv::{Problem, ReadError};
use crate::trace::{IntervalSource, Trace, TraceBuilder};

/// The transport protocols a flow may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Protocol {
    /// UDP datagrams.
    Udp,
    /// TCP segments with a payload.
    Tcp,
}

impl Protocol {
    /// `udp` or `tcp`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }
}

/// Which packets make traces.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Keep only this protocol.
    pub protocol: Option<Protocol>,
    /// Keep only packets from or to this address.
    pub host: Option<IpAddr>,
    /// Keep only packets from or to this port.
    pub port: Option<u16>,
    /// Write the send times of fdbench heartbeats (the sender's clock is the capture's).
    pub assume_synced: bool,
}

/// One flow: protocol, source and destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    /// Its protocol.
    pub protocol: Protocol,
    /// Where the packets came from (the monitored process).
    pub src: SocketAddr,
    /// Where they went (the monitor).
    pub dst: SocketAddr,
}

impl std::fmt::Display for Flow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} -> {}", self.protocol.as_str(), self.src, self.dst)
    }
}

/// A capture split into flows.
#[derive(Debug)]
pub struct Capture {
    /// Each flow with its trace, in order of first appearance in the capture.
    pub flows: Vec<(Flow, Trace)>,
    /// Whether each flow carried fdbench heartbeats (same order).
    pub heartbeats: Vec<bool>,
    /// The time origin of every trace, ns since the Unix epoch.
    pub epoch_unix_ns: i64,
    /// Packets read.
    pub packets: u64,
    /// Packets that are not IPv4/IPv6 UDP or TCP with a payload, or are truncated.
    pub other: u64,
    /// Packets left out by the filters, and the recorder's handshake messages.
    pub filtered: u64,
    /// Flows left out because they have fewer than two receipts (no trace).
    pub short: u64,
}

/// The receipts of one flow as they are read.
struct FlowRows {
    flow: Flow,
    /// The session followed, for a flow of fdbench heartbeats.
    session: Option<u64>,
    interval: Option<i64>,
    /// `(seq, send, recv)`, absolute ns.
    rows: Vec<(u64, Option<i64>, i64)>,
    skipped: u64,
}

/// Reads a pcap or pcapng capture (detected from its first bytes) and splits it into
/// flows. `interval` overrides every trace's nominal interval.
pub fn read<R: Read>(mut input: R, name: &str, opts: &Options, interval: Option<Nanos>) -> Result<Capture, ReadError> {
    let whole = |msg: String| ReadError::whole(name, Problem::Format(msg));
    let mut magic = [0u8; 4];
    input.read_exact(&mut magic).map_err(|e| {
        whole(format!(
            "cannot read the capture's header ({e}); give a pcap or pcapng file from tcpdump -w"
        ))
    })?;
    let input = std::io::Cursor::new(magic).chain(input);
    let mut flows: Vec<FlowRows> = Vec::new();
    let mut cap = Capture {
        flows: Vec::new(),
        heartbeats: Vec::new(),
        epoch_unix_ns: 0,
        packets: 0,
        other: 0,
        filtered: 0,
        short: 0,
    };
    let bad = |k: u64, e: pcap_file::PcapError| {
        whole(format!(
            "packet {k}: {e}; the capture is damaged or truncated (tcpdump -w must end cleanly)"
        ))
    };
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut r = PcapNgReader::new(input).map_err(|e| bad(0, e))?;
        // (link type, timestamp resolution, offset) of each interface of the section.
        let mut ifaces: Vec<(u32, u8, u64)> = Vec::new();
        while let Some(block) = r.next_block() {
            match block.map_err(|e| bad(cap.packets + 1, e))? {
                Block::SectionHeader(_) => ifaces.clear(),
                Block::InterfaceDescription(i) => ifaces.push(interface(&i)),
                Block::EnhancedPacket(p) => {
                    cap.packets += 1;
                    let &(link, resol, offset) = ifaces.get(p.interface_id as usize).ok_or_else(|| {
                        whole(format!(
                            "packet {}: interface {} is not described in the capture",
                            cap.packets, p.interface_id
                        ))
                    })?;
                    let ns = pcapng_time(p.timestamp.as_nanos(), resol, offset);
                    add(&mut flows, &mut cap, link, &p.data, ns, opts);
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(input).map_err(|e| {
            whole(format!(
                "not a pcap or pcapng capture ({e}); give a file written by tcpdump -w"
            ))
        })?;
        let link = u32::from(r.header().datalink);
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| bad(cap.packets + 1, e))?;
            cap.packets += 1;
            let ns = i64::try_from(p.timestamp.as_nanos()).unwrap_or(i64::MAX);
            add(&mut flows, &mut cap, link, &p.data, ns, opts);
        }
    }
    if flows.iter().all(|f| f.rows.len() < 2) && !flows.is_empty() {
        return Err(whole(format!(
            "no flow has two receipts among {} packets; a trace needs at least two",
            cap.packets
        )));
    }
    let earliest = flows
        .iter()
        .flat_map(|f| f.rows.iter().map(|&(_, s, r)| s.map_or(r, |s| s.min(r))))
        .min()
        .ok_or_else(|| {
            whole(format!(
                "no UDP or TCP payload passes the filters among {} packets; check --protocol, --host and --port",
                cap.packets
            ))
        })?;
    cap.epoch_unix_ns = (earliest - super::ORIGIN_SLACK.0).max(0);
    for f in flows {
        if f.rows.len() < 2 {
            cap.short += 1;
            continue;
        }
        let heartbeats = f.session.is_some();
        let trace = finish(f, cap.epoch_unix_ns, interval, name)?;
        cap.heartbeats.push(heartbeats);
        cap.flows.push(trace);
    }
    Ok(cap)
}

/// The link type, timestamp resolution (`if_tsresol`, default 6: µs) and offset
/// (`if_tsoffset`, seconds) of a pcapng interface.
fn interface(
    iface: &pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock<'_>,
) -> (u32, u8, u64) {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption as O;
    let mut resol = 6u8;
    let mut offset_s = 0u64;
    for o in &iface.options {
        match o {
            O::IfTsResol(r) => resol = *r,
            O::IfTsOffset(s) => offset_s = *s,
            _ => {}
        }
    }
    (u32::from(iface.linktype), resol, offset_s)
}

/// A pcapng timestamp in ns since the epoch: `units` of the resolution `resol`, plus
/// `offset_s` seconds.
fn pcapng_time(units: u128, resol: u8, offset_s: u64) -> i64 {
    let ns: u128 = if resol & 0x80 != 0 {
        let shift = u32::from(resol & 0x7f).min(127);
        (units.saturating_mul(1_000_000_000)) >> shift
    } else if resol <= 9 {
        units.saturating_mul(10u128.pow(u32::from(9 - resol)))
    } else {
        units / 10u128.pow(u32::from(resol - 9).min(38))
    };
    let total = ns.saturating_add(u128::from(offset_s) * 1_000_000_000);
    i64::try_from(total).unwrap_or(i64::MAX)
}

/// Adds one captured frame.
fn add(flows: &mut Vec<FlowRows>, cap: &mut Capture, link: u32, frame: &[u8], ns: i64, opts: &Options) {
    let Some((flow, payload)) = dissect(link, frame) else {
        cap.other += 1;
        return;
    };
    let keep = opts.protocol.is_none_or(|p| p == flow.protocol)
        && opts.host.is_none_or(|h| flow.src.ip() == h || flow.dst.ip() == h)
        && opts.port.is_none_or(|p| flow.src.port() == p || flow.dst.port() == p);
    if !keep || payload.is_empty() || packet::is_handshake(payload) {
        cap.filtered += 1;
        return;
    }
    let i = match flows.iter().position(|f| f.flow == flow) {
        Some(i) => i,
        None => {
            let first = heartbeat(payload);
            flows.push(FlowRows {
                flow,
                session: first.map(|h| h.session),
                interval: first.map(|h| h.interval_ns),
                rows: Vec::new(),
                skipped: 0,
            });
            flows.len() - 1
        }
    };
    let f = &mut flows[i];
    match f.session {
        Some(session) => match heartbeat(payload) {
            Some(h) if h.session == session => {
                let send = opts.assume_synced.then_some(h.send_ns);
                f.rows.push((h.seq, send, ns));
            }
            _ => f.skipped += 1,
        },
        None => {
            let seq = f.rows.len() as u64 + 1;
            f.rows.push((seq, None, ns));
        }
    }
}

/// The header of an fdbench heartbeat at the start of `payload`, trailing bytes allowed.
fn heartbeat(payload: &[u8]) -> Option<packet::Packet> {
    packet::Packet::decode(payload.get(..packet::SIZE)?).ok()
}

/// The trace of one flow, rebased on `epoch`.
fn finish(mut f: FlowRows, epoch: i64, interval: Option<Nanos>, name: &str) -> Result<(Flow, Trace), ReadError> {
    f.rows.sort_by_key(|&(seq, _, _)| seq);
    let with_send = f.rows.first().is_some_and(|r| r.1.is_some());
    let mut b = TraceBuilder::new(with_send);
    b.comment(format!("imported from {name}, flow {}", f.flow));
    b.comment(format!("epoch_unix_ns={epoch}"));
    b.comment("recv_ns: capture timestamps, minus the epoch");
    if f.session.is_some() {
        if with_send {
            b.comment("send_ns: the sender's clock stamped in each fdbench heartbeat, minus the epoch");
        }
    } else {
        b.comment("seq: packets counted in capture order (one packet = one heartbeat; losses invisible)");
    }
    let mut duplicates = 0u64;
    let mut last = None;
    for &(seq, send, recv) in &f.rows {
        if last == Some(seq) {
            duplicates += 1;
            continue;
        }
        last = Some(seq);
        b.push(seq, send.map(|s| Nanos(s - epoch)), Some(Nanos(recv - epoch)))
            .map_err(|e| ReadError::whole(name, Problem::Format(format!("flow {}: {e}", f.flow))))?;
    }
    if duplicates + f.skipped > 0 {
        b.comment(format!(
            "dropped: {duplicates} repeated seq, {} packets of another session or not heartbeats",
            f.skipped
        ));
    }
    let source = match (interval, f.interval) {
        (Some(i), _) => Some((i, IntervalSource::Given)),
        (None, Some(i)) => Some((Nanos(i), IntervalSource::Metadata)),
        (None, None) => None,
    };
    let trace = b
        .finish(source)
        .map_err(|e| ReadError::whole(name, Problem::Format(format!("flow {}: {e}", f.flow))))?;
    Ok((f.flow, trace))
}

/// The flow and transport payload of a captured frame with link type `link`, or `None`
/// when it is not IPv4/IPv6 UDP or TCP (or is truncated).
pub fn dissect(link: u32, frame: &[u8]) -> Option<(Flow, &[u8])> {
    let (ethertype, ip) = match link {
        // NULL / LOOP: a 4-byte address family, in host or network order.
        0 | 108 => {
            let fam = frame.get(..4)?;
            let af = u32::from_le_bytes(fam.try_into().ok()?).max(u32::from_be_bytes(fam.try_into().ok()?));
            let et = if af == 2 { 0x0800 } else { 0x86dd };
            (et, frame.get(4..)?)
        }
        // Ethernet, with 802.1Q / 802.1ad tags.
        1 => {
            let mut at = 12;
            let mut et = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
            while et == 0x8100 || et == 0x88a8 {
                at += 4;
                et = u16::from_be_bytes(frame.get(at..at + 2)?.try_into().ok()?);
            }
            (et, frame.get(at + 2..)?)
        }
        // Raw IP.
        101 | 228 | 229 => {
            let v = frame.first()? >> 4;
            (if v == 4 { 0x0800 } else { 0x86dd }, frame)
        }
        // Linux cooked capture v1 and v2.
        113 => (
            u16::from_be_bytes(frame.get(14..16)?.try_into().ok()?),
            frame.get(16..)?,
        ),
        276 => (u16::from_be_bytes(frame.get(0..2)?.try_into().ok()?), frame.get(20..)?),
        _ => return None,
    };
    let (src, dst, proto, l4) = match ethertype {
        0x0800 => {
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if ip.first()? >> 4 != 4 || ihl < 20 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes(ip.get(2..4)?.try_into().ok()?));
            let frag = u16::from_be_bytes(ip.get(6..8)?.try_into().ok()?);
            if frag & 0x1fff != 0 || frag & 0x2000 != 0 {
                return None; // fragments: not one heartbeat each
            }
            let src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(12..16)?).ok()?));
            let dst = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(ip.get(16..20)?).ok()?));
            (src, dst, *ip.get(9)?, ip.get(ihl..total.max(ihl).min(ip.len()))?)
        }
        0x86dd => {
            if ip.first()? >> 4 != 6 {
                return None;
            }
            let len = usize::from(u16::from_be_bytes(ip.get(4..6)?.try_into().ok()?));
            let src = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(8..24)?).ok()?));
            let dst = IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(ip.get(24..40)?).ok()?));
            (src, dst, *ip.get(6)?, ip.get(40..(40 + len).min(ip.len()))?)
        }
        _ => return None,
    };
    let port = |b: &[u8], at: usize| -> Option<u16> { Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?)) };
    let (protocol, payload) = match proto {
        17 => {
            let len = usize::from(port(l4, 4)?);
            (Protocol::Udp, l4.get(8..len.min(l4.len()))?)
        }
        6 => {
            let off = usize::from(l4.get(12)? >> 4) * 4;
            (Protocol::Tcp, l4.get(off.max(20)..)?)
        }
        _ => return None,
    };
    let flow = Flow {
        protocol,
        src: SocketAddr::new(src, port(l4, 0)?),
        dst: SocketAddr::new(dst, port(l4, 2)?),
    };
    Some((flow, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 + UDP frame from 10.0.0.1:5000 to 10.0.0.2:9000.
    fn udp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = (20 + 8 + payload.len()) as u16;
        f.extend_from_slice(&[0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64, 17, 0, 0]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let ulen = (8 + payload.len()) as u16;
        f.extend_from_slice(&[0x13, 0x88, 0x23, 0x28, (ulen >> 8) as u8, ulen as u8, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    /// A classic pcap file (nanosecond magic, Ethernet) of `(time_ns, frame)`.
    fn pcap(frames: &[(u64, Vec<u8>)]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xa1b23c4du32.to_le_bytes());
        b.extend_from_slice(&2u16.to_le_bytes());
        b.extend_from_slice(&4u16.to_le_bytes());
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&65535u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        for (t, f) in frames {
            b.extend_from_slice(&((t / 1_000_000_000) as u32).to_le_bytes());
            b.extend_from_slice(&((t % 1_000_000_000) as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(&(f.len() as u32).to_le_bytes());
            b.extend_from_slice(f);
        }
        b
    }

    fn hb(seq: u64, send_ns: i64, tail: &[u8]) -> Vec<u8> {
        let mut p = packet::Packet {
            session: 7,
            seq,
            send_ns,
            interval_ns: 10_000_000,
        }
        .encode()
        .to_vec();
        p.extend_from_slice(tail);
        p
    }

    const T0: u64 = 1_700_000_000_000_000_000;

    #[test]
    fn fdbench_heartbeats_are_decoded_exactly() {
        // seq 2 overtakes 1; 3 is lost; 4 carries a 16-byte tag; 4 arrives twice.
        let frames = vec![
            (T0 + 25_000_000, udp_frame(&hb(2, (T0 + 20_000_000) as i64, &[]))),
            (T0 + 26_000_000, udp_frame(&hb(1, (T0 + 10_000_000) as i64, &[]))),
            (
                T0 + 41_000_000,
                udp_frame(&hb(4, (T0 + 40_000_000) as i64, &[0xab; 16])),
            ),
            (
                T0 + 42_000_000,
                udp_frame(&hb(4, (T0 + 40_000_000) as i64, &[0xab; 16])),
            ),
            (T0 + 43_000_000, udp_frame(b"not a heartbeat")),
        ];
        let opts = Options {
            assume_synced: true,
            ..Options::default()
        };
        let cap = read(&pcap(&frames)[..], "c.pcap", &opts, None).unwrap();
        assert_eq!(cap.packets, 5);
        assert_eq!(cap.flows.len(), 1);
        assert!(cap.heartbeats[0]);
        let epoch = (T0 + 10_000_000) as i64 - 60_000_000_000;
        assert_eq!(cap.epoch_unix_ns, epoch);
        let (flow, t) = &cap.flows[0];
        assert_eq!(flow.to_string(), "udp 10.0.0.1:5000 -> 10.0.0.2:9000");
        let rows: Vec<_> = t.rows().collect();
        let at = |x: u64| Some(Nanos((T0 + x) as i64 - epoch));
        assert_eq!(
            rows,
            vec![
                (1, at(10_000_000), at(26_000_000)),
                (2, at(20_000_000), at(25_000_000)),
                (4, at(40_000_000), at(41_000_000)),
            ]
        );
        assert_eq!(t.interval(), Nanos(10_000_000));
        assert!(t.comments().iter().any(|c| c.contains("1 repeated seq, 1 packets")));
    }

    #[test]
    fn other_payloads_are_one_arrival_each_and_filters_apply() {
        let frames: Vec<(u64, Vec<u8>)> = (0..4).map(|i| (T0 + i * 1_000_000, udp_frame(b"ping"))).collect();
        let cap = read(&pcap(&frames)[..], "c.pcap", &Options::default(), None).unwrap();
        assert!(!cap.heartbeats[0]);
        let t = &cap.flows[0].1;
        assert!(!t.has_send());
        let seqs: Vec<u64> = t.rows().map(|r| r.0).collect();
        assert_eq!(seqs, [1, 2, 3, 4]);
        assert_eq!(t.interval(), Nanos(1_000_000));
        let port = Options {
            port: Some(1234),
            ..Options::default()
        };
        let e = read(&pcap(&frames)[..], "c.pcap", &port, None).unwrap_err();
        assert!(
            e.to_string()
                .contains("no UDP or TCP payload passes the filters among 4 packets"),
            "{e}"
        );
        let tcp = Options {
            protocol: Some(Protocol::Tcp),
            ..Options::default()
        };
        assert!(read(&pcap(&frames)[..], "c.pcap", &tcp, None).is_err());
    }

    #[test]
    fn damaged_captures_are_errors_not_panics() {
        let frames: Vec<(u64, Vec<u8>)> = (0..3).map(|i| (T0 + i, udp_frame(b"x"))).collect();
        let good = pcap(&frames);
        for cut in [0, 3, 10, 30, good.len() - 5] {
            let e = read(&good[..cut], "c.pcap", &Options::default(), None);
            assert!(e.is_err() || cut == good.len() - 5, "cut {cut}");
        }
        let e = read(&good[..good.len() - 5], "c.pcap", &Options::default(), None).unwrap_err();
        assert!(e.to_string().starts_with("c.pcap: packet 3: "), "{e}");
        assert!(read(&b"hello world, not a capture"[..], "x", &Options::default(), None).is_err());
        let frame = udp_frame(b"abc");
        for cut in 0..frame.len() {
            let d = dissect(1, &frame[..cut]);
            assert_eq!(d.is_some(), cut >= 42, "cut {cut}");
        }
        assert_eq!(dissect(1, &frame).unwrap().1, b"abc");
    }

    /// A pcapng block of `kind` with `body`, little-endian.
    fn block(kind: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()) as u32;
        let mut b = kind.to_le_bytes().to_vec();
        b.extend_from_slice(&len.to_le_bytes());
        b.extend_from_slice(body);
        b.extend_from_slice(&len.to_le_bytes());
        b
    }

    #[test]
    fn pcapng_timestamps_follow_the_interfaces_resolution() {
        let mut shb = 0x1a2b3c4du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        // Interface 0: Ethernet, default resolution (µs). Interface 1: Ethernet, if_tsresol = 9 (ns).
        let mut idb0 = 1u16.to_le_bytes().to_vec();
        idb0.extend_from_slice(&[0, 0]);
        idb0.extend_from_slice(&65535u32.to_le_bytes());
        let mut idb1 = idb0.clone();
        idb1.extend_from_slice(&[9, 0, 1, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
        let epb = |iface: u32, units: u64, frame: &[u8]| {
            let mut b = iface.to_le_bytes().to_vec();
            b.extend_from_slice(&((units >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(units as u32).to_le_bytes());
            b.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            b.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            b.extend_from_slice(frame);
            b.resize(b.len().div_ceil(4) * 4, 0);
            block(6, &b)
        };
        let f = udp_frame(b"beat");
        let t_us = T0 / 1000;
        let mut file = block(0x0a0d0d0a, &shb);
        file.extend(block(1, &idb0));
        file.extend(block(1, &idb1));
        file.extend(epb(0, t_us, &f));
        file.extend(epb(1, T0 + 2_000_123, &f));
        file.extend(epb(0, t_us + 4_000, &f));
        let cap = read(&file[..], "c.pcapng", &Options::default(), None).unwrap();
        let t = &cap.flows[0].1;
        let recv: Vec<i64> = t.rows().map(|r| r.2.unwrap().0 + cap.epoch_unix_ns).collect();
        let t0 = T0 as i64;
        assert_eq!(recv, [t0, t0 + 2_000_123, t0 + 4_000_000]);
        let mut bad = file.clone();
        bad.extend(epb(3, t_us, &f));
        let e = read(&bad[..], "c.pcapng", &Options::default(), None).unwrap_err();
        assert!(e.to_string().contains("packet 4: interface 3 is not described"), "{e}");
    }
}
