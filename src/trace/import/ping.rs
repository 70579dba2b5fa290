//! Linux `ping -D` output (iputils):
//!
//! ```text
//! PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
//! [1732550000.123456] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms
//! [1732550001.123987] no answer yet for icmp_seq=2
//! [1732550002.124011] 64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.051 ms
//! ```
//!
//! Each echo reply is a heartbeat: `seq` is `icmp_seq` (16 bits on the wire; wrap-arounds
//! are undone), `recv_ns` is the bracketed timestamp (seconds since the Unix epoch, µs
//! resolution, printed when the reply was received). A missing `icmp_seq`, a
//! `no answer yet` line (`ping -O`) or an ICMP error line (`From ... Destination Host
//! Unreachable`) is a lost heartbeat; a `DUP!` reply is dropped.
//!
//! **One-way delay assumption**: by default `send_ns = recv_ns − rtt/2`, the instant the
//! target answered if the delays are equal both ways (the echo request left at
//! `recv_ns − rtt`, on the same clock). [`Options::send`] `false` keeps receipt times
//! only. The choice is written as a trace comment.

use std::io::Read;

use super::{Rows, parse_decimal, text};
use crate::time::Nanos;
use crate::trace::Trace;
use crate::trace::csv::{ReadError, for_each_line};

/// How to import ping output.
#[derive(Clone, Debug)]
pub struct Options {
    /// Write `send_ns = recv_ns − rtt/2`; otherwise receipt times only.
    pub send: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { send: true }
    }
}

/// Undoes the 16-bit wrap-around of `icmp_seq`: the value nearest to `prev` with these low bits.
fn unwrap16(prev: Option<u64>, raw: u64) -> u64 {
    let Some(p) = prev else { return raw };
    let base = p & !0xffff;
    [base.checked_sub(0x10000), Some(base), base.checked_add(0x10000)]
        .into_iter()
        .flatten()
        .map(|b| b | raw)
        .min_by_key(|&c| c.abs_diff(p))
        .unwrap_or(raw)
}

/// The number after `key` (digits and one dot), if any.
fn value_after<'l>(line: &'l str, key: &str) -> Option<&'l str> {
    let at = line.find(key)? + key.len();
    let rest = &line[at..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Reads `ping -D` output; `interval` is the ping interval (`-i`) if known.
pub fn read<R: Read>(input: R, name: &str, opts: &Options, interval: Option<Nanos>) -> Result<Trace, ReadError> {
    let mut rows = Rows::new(name, opts.send);
    rows.comment(format!("imported from ping -D output {name}"));
    rows.comment(if opts.send {
        "recv_ns: the reply's printed receipt time; send_ns = recv_ns - rtt/2 (assumes equal one-way delays both ways)"
    } else {
        "recv_ns: the reply's printed receipt time (receipt times only)"
    });
    let (mut replies, mut no_answer, mut errors, mut dups) = (0u64, 0u64, 0u64, 0u64);
    let mut prev_seq: Option<u64> = None;
    for_each_line(input, name, |line_no, bytes| {
        let line = text(name, line_no, bytes)?.trim();
        if !line.contains("icmp_seq=") {
            return Ok(()); // banner, statistics, blank lines
        }
        let Some(rest) = line.strip_prefix('[') else {
            return Err(rows.err(
                line_no,
                "a reply without a [timestamp]; run ping with -D so that each line carries its receipt time",
            ));
        };
        let (stamp, rest) = rest.split_once(']').ok_or_else(|| {
            rows.err(
                line_no,
                "'[' without ']'; expected [SECONDS.MICROS] at the start of the line",
            )
        })?;
        let recv = parse_decimal(stamp, 1_000_000_000).ok_or_else(|| {
            rows.err(
                line_no,
                format!("timestamp '[{stamp}]' is not seconds since the epoch (e.g. [1732550000.123456])"),
            )
        })?;
        // The whole token up to the next space, so that `icmp_seq=12a` is refused as it is.
        let raw = rest
            .split_once("icmp_seq=")
            .map_or("", |(_, v)| v.split(char::is_whitespace).next().unwrap_or(""));
        let raw: u64 = raw.parse().map_err(|_| {
            rows.err(
                line_no,
                format!("icmp_seq={raw} is not a sequence number (a whole number, e.g. icmp_seq=12)"),
            )
        })?;
        let seq = unwrap16(prev_seq, raw);
        prev_seq = Some(seq);
        if rest.contains("no answer yet") {
            no_answer += 1;
            return Ok(());
        }
        let Some(rtt) = value_after(rest, "time=") else {
            errors += 1; // an ICMP error instead of a reply: lost
            return Ok(());
        };
        let rtt_ns = parse_decimal(rtt, 1_000_000).ok_or_else(|| {
            rows.err(
                line_no,
                format!("time='{rtt}' is not a round-trip time in ms (e.g. time=0.045 ms)"),
            )
        })?;
        if !rest.contains(&format!("time={rtt} ms")) {
            return Err(rows.err(
                line_no,
                format!("time={rtt}: expected the round-trip time in ms ('time={rtt} ms')"),
            ));
        }
        if rest.contains("DUP!") {
            dups += 1;
            return Ok(());
        }
        replies += 1;
        let send = recv - (rtt_ns + 1) / 2;
        rows.push(line_no, seq, Some(send.max(0)), Some(recv))
    })?;
    rows.comment(format!(
        "ping: {replies} replies, {no_answer} 'no answer yet', {errors} ICMP error line(s), {dups} DUP! dropped"
    ));
    rows.finish(interval, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bit_sequence_numbers_are_unwrapped() {
        assert_eq!(unwrap16(None, 5), 5);
        assert_eq!(unwrap16(Some(65535), 0), 65536);
        assert_eq!(unwrap16(Some(65536), 65535), 65535);
        assert_eq!(unwrap16(Some(3 * 65536 + 10), 9), 3 * 65536 + 9);
        assert_eq!(unwrap16(Some(3), 65534), 65534);
    }

    #[test]
    fn a_bad_icmp_seq_is_shown_as_written() {
        let opts = Options { send: true };
        let line = |seq: &str| {
            format!(
                "[1732550000.123456] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\n\
                 [1732550001.123456] 64 bytes from 127.0.0.1: icmp_seq={seq} ttl=64 time=0.045 ms\n"
            )
        };
        for (seq, shown) in [("12a", "12a"), ("", ""), ("x7", "x7"), ("-3", "-3")] {
            let e = read(line(seq).as_bytes(), "p.log", &opts, None)
                .unwrap_err()
                .to_string();
            assert_eq!(
                e,
                format!("p.log line 2: icmp_seq={shown} is not a sequence number (a whole number, e.g. icmp_seq=12)")
            );
        }
        assert!(read(line("2").as_bytes(), "p.log", &opts, None).is_ok());
    }
}
