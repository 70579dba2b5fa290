//! `fdbench import`: every format on small realistic inputs, bad lines with their
//! messages, gzip input, arbitrary bytes, and a real PlanetLab sender log when present.

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fdbench::time::Nanos;
use fdbench::trace::import::delay::DelayModel;
use fdbench::trace::import::generic::{Column, Unit};
use fdbench::trace::import::{self, ImportFormat, ORIGIN_SLACK, generic, lip6, ping, send_times};
use fdbench::trace::{IntervalSource, Trace};

fn run(format: &ImportFormat, text: &str) -> Result<Trace, String> {
    import::import_reader(format, text.as_bytes(), "in.txt", None).map_err(|e| e.to_string())
}

fn rows(t: &Trace) -> Vec<(u64, Option<i64>, Option<i64>)> {
    t.rows().map(|(s, a, b)| (s, a.map(|x| x.0), b.map(|x| x.0))).collect()
}

const PING: &str = "\
PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
[1732550000.100000] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.040 ms
[1732550000.300100] 64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.052 ms
[1732550000.600000] no answer yet for icmp_seq=3
[1732550000.700050] 64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.061 ms
[1732550000.700090] 64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.101 ms (DUP!)
[1732550000.900020] From 127.0.0.1 icmp_seq=5 Destination Host Unreachable
[1732550001.100000] 64 bytes from 127.0.0.1: icmp_seq=6 ttl=64 time=12.5 ms

--- 127.0.0.1 ping statistics ---
6 packets transmitted, 4 received, +1 duplicates, 33.3333% packet loss, time 1000ms
rtt min/avg/max/mdev = 0.040/3.163/12.500/5.408 ms
";

#[test]
fn ping_replies_become_heartbeats_with_half_the_rtt_as_one_way_delay() {
    let t = run(&ImportFormat::Ping(ping::Options::default()), PING).unwrap();
    // The origin is the first send time (receipt − rtt/2) minus the slack.
    let origin = 1_732_550_000_100_000_000 - 20_000 - ORIGIN_SLACK.0;
    let at = |s: i64| s - origin;
    assert_eq!(
        rows(&t),
        vec![
            (
                1,
                Some(at(1_732_550_000_099_980_000)),
                Some(at(1_732_550_000_100_000_000))
            ),
            (
                2,
                Some(at(1_732_550_000_300_074_000)),
                Some(at(1_732_550_000_300_100_000))
            ),
            (
                4,
                Some(at(1_732_550_000_700_019_500)),
                Some(at(1_732_550_000_700_050_000))
            ),
            (
                6,
                Some(at(1_732_550_001_093_750_000)),
                Some(at(1_732_550_001_100_000_000))
            ),
        ]
    );
    assert!(t.comments().iter().any(|c| c.contains("send_ns = recv_ns - rtt/2")));
    assert!(
        t.comments()
            .iter()
            .any(|c| c == "ping: 4 replies, 1 'no answer yet', 1 ICMP error line(s), 1 DUP! dropped")
    );
    let t = run(&ImportFormat::Ping(ping::Options { send: false }), PING).unwrap();
    assert!(!t.has_send());
    assert_eq!(t.recv(0), Some(Nanos(ORIGIN_SLACK.0)));
}

#[test]
fn ping_sequence_numbers_wrap_at_16_bits() {
    let text = "\
[1000.0] 64 bytes from ::1: icmp_seq=65534 ttl=64 time=0.010 ms
[1000.1] 64 bytes from ::1: icmp_seq=65535 ttl=64 time=0.010 ms
[1000.2] 64 bytes from ::1: icmp_seq=0 ttl=64 time=0.010 ms
[1000.3] 64 bytes from ::1: icmp_seq=1 ttl=64 time=0.010 ms
";
    let t = run(&ImportFormat::Ping(ping::Options::default()), text).unwrap();
    assert_eq!(
        t.rows().map(|r| r.0).collect::<Vec<_>>(),
        vec![65534, 65535, 65536, 65537]
    );
    assert_eq!(t.interval(), Nanos::from_millis(100));
}

#[test]
fn bad_ping_lines_are_named_with_the_fix() {
    let p = ImportFormat::Ping(ping::Options::default());
    let e = run(&p, "PING x\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.040 ms\n").unwrap_err();
    assert_eq!(
        e,
        "in.txt line 2: a reply without a [timestamp]; run ping with -D so that each line carries its receipt time"
    );
    let e = run(&p, "[17325x.1] 64 bytes from h: icmp_seq=1 ttl=64 time=0.040 ms\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 1: timestamp '[17325x.1]' is not seconds since the epoch"),
        "{e}"
    );
    let e = run(&p, "[1.0] 64 bytes from h: icmp_seq=1 ttl=64 time=0.040 s\n").unwrap_err();
    assert!(
        e.contains("line 1: time=0.040: expected the round-trip time in ms"),
        "{e}"
    );
    let e = run(&p, "[1.0] 64 bytes from h: icmp_seq=1 ttl=64 time=0.040 ms\n").unwrap_err();
    assert!(e.contains("1 receipt(s)"), "{e}");
}

const LIP6: &str = "\
7 0 10965460769347846 2439202604391108 14
3 0 56000000000000 2439202604500000 9
7 1 10965460869347846 2439202704391108 14
7 3 10965461069347846 2439202904391108 14
7 2 10965460969347846 2439202905391108 15
";

#[test]
fn lip6_logs_give_one_senders_receipts() {
    let opts = lip6::Options {
        site: 7,
        assume_synced: false,
    };
    let t = run(&ImportFormat::Lip6(opts), LIP6).unwrap();
    let o = 2_439_202_604_391_108 - ORIGIN_SLACK.0;
    assert_eq!(
        rows(&t),
        vec![
            (0, None, Some(2_439_202_604_391_108 - o)),
            (1, None, Some(2_439_202_704_391_108 - o)),
            (2, None, Some(2_439_202_905_391_108 - o)),
            (3, None, Some(2_439_202_904_391_108 - o)),
        ]
    );
    assert_eq!(t.interval(), Nanos::from_millis(100));
    assert_eq!(t.interval_source(), IntervalSource::Inferred);
    assert_eq!(t.accepted().stale, 1, "heartbeat 2 arrived after 3");
    // The same log, comma-separated with a header.
    let csv = format!(
        "site,numseq,timestamp_send,timestamp_receive,hops\n{}",
        LIP6.replace(' ', ",")
    );
    assert_eq!(
        run(
            &ImportFormat::Lip6(lip6::Options {
                site: 7,
                assume_synced: false
            }),
            &csv
        )
        .unwrap(),
        t
    );
}

#[test]
fn bad_lip6_input_is_named_with_the_fix() {
    let synced = ImportFormat::Lip6(lip6::Options {
        site: 7,
        assume_synced: true,
    });
    let e = run(&synced, LIP6).unwrap_err();
    assert_eq!(
        e,
        "in.txt line 1: received at 2439202604391108 before sent at 10965460769347846: the clocks are not synchronized; drop --assume-synced"
    );
    let site = |s| {
        ImportFormat::Lip6(lip6::Options {
            site: s,
            assume_synced: false,
        })
    };
    let e = run(&site(9), LIP6).unwrap_err();
    assert!(
        e.starts_with("in.txt: 0 heartbeat(s) from site 9 (5 line(s) from other sites)"),
        "{e}"
    );
    let e = run(&site(7), "7 0 1 2 3\n7 1 2 3\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 2: 4 field(s); a LIP6 receipt line has 5"),
        "{e}"
    );
    let e = run(&site(7), "7 0 1 2 3\n7 x 2 3 4\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 2: column numseq (field 2): 'x' is not"),
        "{e}"
    );
    let e = run(&site(7), "7 0 1 2 3\n7 1000000000000 2 3 4\n").unwrap_err();
    assert!(e.starts_with("in.txt line 2: seq 1000000000000 jumps"), "{e}");
}

const SENT: &str = "\
numseq,timestamp_start_send,timestamp_end_send
0,10965460769314089,10965460788896345
1,10965460869347471,10965460869403196
2,10965462199319551,10965462199457088
3,10965462269300487,10965462269351691
";

#[test]
fn send_time_logs_keep_real_send_times_and_model_arrivals() {
    let opts = send_times::Options {
        delay: "constant:10ms".parse().unwrap(),
        loss: 0.0,
        seed: 1,
    };
    let t = run(&ImportFormat::SendTimes(opts), SENT).unwrap();
    let o = 10_965_460_769_314_089 - ORIGIN_SLACK.0;
    let sends = [
        10_965_460_769_314_089,
        10_965_460_869_347_471,
        10_965_462_199_319_551,
        10_965_462_269_300_487,
    ];
    let expected: Vec<_> = sends
        .iter()
        .enumerate()
        .map(|(i, &s)| (i as u64, Some(s - o), Some(s - o + 10_000_000)))
        .collect();
    assert_eq!(rows(&t), expected);
    assert!(
        t.comments()
            .iter()
            .any(|c| c.contains("delay constant:10ms loss 0 seed 1"))
    );

    let lossy = |seed| {
        let o = send_times::Options {
            delay: "lognormal:20ms,0.5".parse::<DelayModel>().unwrap(),
            loss: 0.3,
            seed,
        };
        let many: String = std::iter::once("numseq,timestamp_start_send,timestamp_end_send\n".to_string())
            .chain((0..400i64).map(|i| {
                format!(
                    "{i},{},{}\n",
                    1_000_000_000 + i * 100_000_000,
                    1_000_000_100 + i * 100_000_000
                )
            }))
            .collect();
        run(&ImportFormat::SendTimes(o), &many).unwrap_or_else(|e| panic!("{e}"))
    };
    let a = lossy(5);
    assert_eq!(a, lossy(5), "same seed, same trace");
    assert_ne!(a, lossy(6));
    assert!((200..360).contains(&a.len()), "{} of 400 kept at 30% loss", a.len());
}

#[test]
fn bad_send_time_lines_are_named() {
    let st = ImportFormat::SendTimes(send_times::Options::default());
    let e = run(&st, "numseq,a,b\n0,10,5\n").unwrap_err();
    assert_eq!(
        e,
        "in.txt line 2: timestamp_end_send 5 is before timestamp_start_send 10; the columns may be swapped"
    );
    let e = run(&st, "0,10,20,30\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 1: 4 field(s); a send-time line has 3"),
        "{e}"
    );
}

/// The first 1000 lines of a real PlanetLab sender log from the shared datasets.
fn planetlab_node7() -> String {
    let p =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/planetlab-lip6-sender/node7_sentinterval.csv");
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{} not readable: {e}", p.display()));
    s.lines().take(1000).map(|l| format!("{l}\n")).collect()
}

/// Under `FDBENCH_REQUIRE_ALL=1` (set by `.ci/run` when it has them) the tests that
/// need the shared datasets must not be ignored.
#[test]
fn the_shared_datasets_are_here_when_required() {
    let present = cfg!(fdbench_datasets);
    if std::env::var("FDBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1") && !present {
        panic!("FDBENCH_REQUIRE_ALL=1 but ../shared/datasets was not found when the tests were built");
    }
}

#[test]
#[cfg_attr(
    not(fdbench_datasets),
    ignore = "needs ../shared/datasets (not found when the tests were built)"
)]
fn a_real_planetlab_sender_log_imports() {
    let text = planetlab_node7();
    let opts = send_times::Options {
        delay: "lognormal:20ms,0.3".parse().unwrap(),
        loss: 0.0,
        seed: 1,
    };
    let t = run(&ImportFormat::SendTimes(opts), &text).unwrap();
    assert_eq!(t.len(), 999);
    // Send times are the file's, shifted by one origin.
    let file: Vec<i64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let shift = file[0] - t.send(0).unwrap().0;
    for (i, &s) in file.iter().enumerate() {
        assert_eq!(t.send(i).unwrap().0 + shift, s);
        assert!(t.recv(i).unwrap() > t.send(i).unwrap());
    }
    // The node sent every 100 ms: the interval is the median send spacing (the upper
    // median, element len/2 of the sorted spacings; the numseq column is consecutive).
    let mut spacing: Vec<i64> = file.windows(2).map(|w| w[1] - w[0]).collect();
    spacing.sort_unstable();
    assert_eq!(t.interval().0, spacing[spacing.len() / 2]);
    assert!((99_900_000..100_100_000).contains(&t.interval().0));
    assert_eq!(t.interval_source(), IntervalSource::Metadata);
}

#[test]
fn generic_csv_maps_columns_by_name_or_position_in_any_unit() {
    let by_name = generic::Options {
        seq: Some(Column::Name("seqno".into())),
        send: None,
        recv: Column::Name("t_recv".into()),
        unit: Unit::S,
        header: true,
        delimiter: ',',
    };
    let text = "host,t_recv,seqno\na,1.5,1\na,1.75,2\na,,3\na,2.25,4\n";
    let t = run(&ImportFormat::Csv(by_name), text).unwrap();
    // Times this small keep their origin at 0.
    assert_eq!(
        rows(&t),
        vec![
            (1, None, Some(1_500_000_000)),
            (2, None, Some(1_750_000_000)),
            (4, None, Some(2_250_000_000))
        ]
    );
    let by_pos = generic::Options {
        seq: None,
        send: Some(Column::Index(1)),
        recv: Column::Index(2),
        unit: Unit::Us,
        header: false,
        delimiter: '\t',
    };
    let t = run(&ImportFormat::Csv(by_pos), "100\t150\n200\t260.5\n").unwrap();
    assert_eq!(
        rows(&t),
        vec![(1, Some(100_000), Some(150_000)), (2, Some(200_000), Some(260_500))]
    );
}

#[test]
fn bad_generic_csv_is_named_with_the_fix() {
    let opts = |recv: &str, header: bool| {
        ImportFormat::Csv(generic::Options {
            seq: None,
            send: None,
            recv: recv.parse().unwrap(),
            unit: Unit::Ms,
            header,
            delimiter: ',',
        })
    };
    let e = run(&opts("when", true), "a,b\n1,2\n").unwrap_err();
    assert_eq!(
        e,
        "in.txt line 1: --recv-col when: no such column in the header (a,b); give a name from it or a position"
    );
    let e = run(&opts("2", false), "1,2\n3\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 2: 1 field(s), but the recv column is number 2"),
        "{e}"
    );
    let e = run(&opts("1", false), "1.5\n1.5.2\n").unwrap_err();
    assert!(
        e.starts_with("in.txt line 2: recv '1.5.2' is not a non-negative number"),
        "{e}"
    );
    let e = run(&opts("1", false), "5\n").unwrap_err();
    assert_eq!(
        e,
        "in.txt: the trace has 1 receipt(s); at least two are needed to replay a detector"
    );
}

fn gz(path: &Path, text: &str) {
    let f = std::fs::File::create(path).unwrap();
    let mut enc = flate2::write::GzEncoder::new(f, flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
}

#[test]
fn gzip_input_is_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ping.txt.gz");
    gz(&p, PING);
    let format = ImportFormat::Ping(ping::Options::default());
    let t = import::import(&format, &p, None).unwrap();
    let plain = run(&format, PING).unwrap();
    assert_eq!(rows(&t), rows(&plain));
    assert_eq!(t.interval(), plain.interval());
}

fn cli() -> Command {
    Command::cargo_bin("fdbench").unwrap()
}

#[test]
fn the_cli_writes_a_valid_trace_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("ping.txt.gz");
    gz(&input, PING);
    let out: PathBuf = dir.path().join("ping.csv");
    cli()
        .args(["import", "--format", "ping", "--interval", "200ms", "-q"])
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .success();
    let t = fdbench::trace::csv::read_path(&out, None).unwrap();
    assert_eq!(t.len(), 4);
    assert_eq!(t.interval(), Nanos::from_millis(200));

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "[1.0] 64 bytes from h: icmp_seq=1 ttl=64 time=x ms\n").unwrap();
    let out2 = dir.path().join("bad.csv");
    cli()
        .args(["import", "--format", "ping"])
        .arg(&bad)
        .arg("-o")
        .arg(&out2)
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "bad.txt line 1: time='' is not a round-trip time",
        ));
    assert!(!out2.exists());
    cli()
        .args(["import", "--format", "lip6", "x.log", "-o", "y.csv"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--format lip6 needs --site N"));
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let formats = [
            ImportFormat::Ping(ping::Options::default()),
            ImportFormat::Lip6(lip6::Options { site: 1, assume_synced: true }),
            ImportFormat::SendTimes(send_times::Options::default()),
            ImportFormat::Csv(generic::Options::default()),
        ];
        for f in &formats {
            let _ = import::import_reader(f, bytes.as_slice(), "fuzz", None);
        }
    }

    #[test]
    fn near_valid_lines_never_panic(lines in proptest::collection::vec("[0-9 ,.\\[\\]=a-z]{0,40}", 0..20)) {
        let text = lines.join("\n");
        let formats = [
            ImportFormat::Ping(ping::Options::default()),
            ImportFormat::Lip6(lip6::Options { site: 1, assume_synced: false }),
            ImportFormat::SendTimes(send_times::Options::default()),
            ImportFormat::Csv(generic::Options { seq: Some(Column::Index(1)), ..generic::Options::default() }),
        ];
        for f in &formats {
            let _ = import::import_reader(f, text.as_bytes(), "fuzz", None);
        }
    }
}
