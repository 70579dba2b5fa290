//! Robustness: hostile inputs, numeric extremes and interruptions.
//!
//! - **Parser fuzzing**: every reader of user text is fed arbitrary bytes and mutated
//!   valid inputs (bit flips, truncation, duplicated and deleted lines, huge numbers,
//!   inserted fields). Each must return a value or an error — never panic — and must not
//!   allocate without bound: a counting allocator measures the peak memory of every call.
//!   `FDBENCH_FUZZ_CASES=N` sets the cases per reader (default 2,000; `scripts/fuzz.sh`
//!   runs 100,000).
//! - **Numeric extremes**: timestamps near the top of `i64`, intervals of 1 ns and of
//!   days, windows of 1, extreme knob values, zero variance, all heartbeats lost, through
//!   every detector, both engines and the results writer: no panic (run in debug mode
//!   too, where integer overflow panics), no NaN in any output.
//! - **Unwritable outputs** are a clear error with exit 1 (interruptions, full disks and
//!   outputs that are inputs are in `tests/faults.rs`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use fdbench::Nanos;
use fdbench::detector::spec;
use fdbench::replay::{self, Options};
use fdbench::results::{self, Format, Row};
use fdbench::sweep;
use fdbench::trace::synth::{Dist, Every, Loss};
use fdbench::trace::{Receipts, Trace, TraceBuilder};

// ---------------------------------------------------------------------------------------
// A counting allocator: the bytes live on the current thread, and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn track(delta: isize) {
    let _ = LIVE.try_with(|l| {
        let v = l.get() + delta;
        l.set(v);
        let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most a parser may allocate on hostile input of a few kilobytes.
const PARSE_BUDGET: isize = 64 << 20;

/// Runs `f` and returns its result with the peak bytes it allocated on this thread.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, isize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

/// Runs a parser under the allocation budget.
fn bounded<T>(what: &str, input: &[u8], f: impl FnOnce() -> T) -> T {
    let (out, peak) = peak_of(f);
    assert!(
        peak <= PARSE_BUDGET,
        "{what} allocated {peak} bytes on a {}-byte input: {:?}",
        input.len(),
        String::from_utf8_lossy(&input[..input.len().min(200)])
    );
    out
}

// ---------------------------------------------------------------------------------------
// Fuzzing configuration and mutators.

/// Cases per reader: `FDBENCH_FUZZ_CASES`, default 2,000.
fn cases() -> u32 {
    std::env::var("FDBENCH_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        max_shrink_iters: 2_000,
        ..ProptestConfig::default()
    }
}

const HUGE: [&str; 12] = [
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1000000000000000",
    "999999999999999999999999999999",
    "1e308",
    "1e999",
    "NaN",
    "-0",
    "inf",
];

const JUNK: [&str; 14] = [
    ",", "..", ":", "=", "/", "#", "\"", "\r", "\0", "..:", "1d", "0ns", "-1", "\u{fffd}",
];

/// Applies 1 to 8 random mutations to `input`.
fn mutate(input: &[u8], seed: u64) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = input.to_vec();
    let n = rng.random_range(1..=8);
    for _ in 0..n {
        let len = b.len();
        match rng.random_range(0..10) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                b[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => b.truncate(rng.random_range(0..len)),
            2 | 3 => {
                let lines: Vec<&[u8]> = b.split(|&c| c == b'\n').collect();
                if lines.is_empty() {
                    continue;
                }
                let i = rng.random_range(0..lines.len());
                let mut out: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
                if rng.random_bool(0.5) {
                    let copies = rng.random_range(1..4);
                    for _ in 0..copies {
                        out.insert(i, lines[i].to_vec());
                    }
                } else {
                    out.remove(i);
                }
                b = out.join(&b'\n');
            }
            4 | 5 => {
                // Replace a run of digits by a huge or odd number.
                let digits: Vec<usize> = (0..len).filter(|&i| b[i].is_ascii_digit()).collect();
                if digits.is_empty() {
                    continue;
                }
                let start = digits[rng.random_range(0..digits.len())];
                let end = (start..len).find(|&i| !b[i].is_ascii_digit()).unwrap_or(len);
                let h = HUGE[rng.random_range(0..HUGE.len())].as_bytes();
                b.splice(start..end, h.iter().copied());
            }
            6 | 7 => {
                let i = rng.random_range(0..=len);
                let j = JUNK[rng.random_range(0..JUNK.len())].as_bytes();
                b.splice(i..i, j.iter().copied());
            }
            8 => {
                let i = rng.random_range(0..=len);
                let k = rng.random_range(1..6);
                let bytes: Vec<u8> = (0..k).map(|_| rng.random()).collect();
                b.splice(i..i, bytes);
            }
            _ => {
                // Duplicate a field separated by ',' or ':'.
                if let Some(i) = (0..len)
                    .filter(|&i| b[i] == b',' || b[i] == b':')
                    .nth(rng.random_range(0..4))
                {
                    let end = (i + 1..len).find(|&k| b[k] == b',' || b[k] == b'\n').unwrap_or(len);
                    let field = b[i..end].to_vec();
                    b.splice(end..end, field);
                }
            }
        }
    }
    b
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Arbitrary bytes, biased towards the characters parsers look at.
fn hostile_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let interesting = prop::sample::select(b"0123456789.,:=/#-+_ \n\r\tabcdefghijklmnopqrstuvwxyzusmhdnEe".to_vec());
    prop::collection::vec(prop_oneof![3 => interesting, 1 => any::<u8>()], 0..max)
}

// ---------------------------------------------------------------------------------------
// Trace CSV.

const CSV_SEEDS: [&str; 5] = [
    "# interval_ns=100000000\nseq,send_ns,recv_ns\n1,0,51234567\n2,100000000,\n3,200000000,251002311\n4,300000000,350000000\n",
    "seq,recv_ns\n1,100\n2,200\n4,400\n3,300\n5,500\n",
    "recv_ns,seq,send_ns\n10,1,5\n20,2,15\n,3,25\n40,4,35\n",
    "# a comment\n# interval_ns=1\nseq,recv_ns\n0,0\n1,1\n2,2\n3,3\n",
    "seq,send_ns,recv_ns\n1,9200000000000000000,9200000000000000100\n2,9200000000100000000,9200000000100000100\n",
];

fn read_csv(b: &[u8]) -> Result<Trace, fdbench::trace::csv::ReadError> {
    bounded("trace csv", b, || fdbench::trace::csv::read(b, "fuzz.csv", None))
}

fn check_trace(t: &Trace) {
    assert!(t.receipts() >= 2);
    assert!(t.interval().0 > 0);
    let r = t.accepted();
    assert!(r.recv.windows(2).all(|w| w[0] <= w[1]));
    assert!(r.seq.windows(2).all(|w| w[0] < w[1]));
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn trace_csv_survives_arbitrary_bytes(b in hostile_bytes(512)) {
        let mut with_header = b"seq,send_ns,recv_ns\n".to_vec();
        with_header.extend_from_slice(&b);
        for input in [&b, &with_header] {
            match read_csv(input) {
                Ok(t) => check_trace(&t),
                Err(e) => prop_assert!(e.to_string().starts_with("fuzz.csv")),
            }
        }
    }

    #[test]
    fn trace_csv_survives_mutations(which in 0..CSV_SEEDS.len(), seed in any::<u64>()) {
        let input = mutate(CSV_SEEDS[which].as_bytes(), seed);
        match read_csv(&input) {
            Ok(t) => check_trace(&t),
            Err(e) => prop_assert!(e.to_string().starts_with("fuzz.csv")),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Detector spec strings, durations, rates, generator flags.

const SPEC_SEEDS: [&str; 10] = [
    "fixed:timeout=50ms..2s:10ms",
    "phi:window=1000,threshold=0.5..16:0.1",
    "chen:window=10..100:10,alpha=0..1s:10ms",
    "bertier:window=100,gamma=0.1,beta=1,phi=4",
    "akka:threshold=8,window=1000,min_std=100ms,pause=0s",
    "exp-phi:threshold=1..20:1",
    "satzger:window=1000,quantile=0.99",
    "2w",
    "akka-cluster",
    "cassandra",
];

fn parse_spec(t: &str) -> Result<Vec<spec::DetectorSpec>, spec::SpecError> {
    bounded("spec", t.as_bytes(), || spec::parse(t))
}

fn check_specs(specs: &[spec::DetectorSpec]) {
    let total: usize = specs.iter().map(|s| s.knob_values.len()).sum();
    assert!(total <= spec::MAX_VALUES, "{total} values escaped the cap");
    for s in specs {
        assert!(s.config.window() <= spec::MAX_WINDOW);
        assert!(s.knob_values.iter().all(|v| !v.is_nan()));
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn spec_strings_survive_arbitrary_text(b in hostile_bytes(120)) {
        if let Ok(s) = parse_spec(&text(&b)) { check_specs(&s) }
    }

    #[test]
    fn spec_strings_survive_mutations(which in 0..SPEC_SEEDS.len(), seed in any::<u64>()) {
        let t = text(&mutate(SPEC_SEEDS[which].as_bytes(), seed));
        if let Ok(s) = parse_spec(&t) { check_specs(&s) }
    }

    #[test]
    fn ranges_with_arbitrary_bounds_are_capped(
        name in prop::sample::select(vec!["fixed", "chen", "phi", "akka", "exp-phi", "satzger"]),
        key in prop::sample::select(vec!["timeout", "alpha", "threshold", "window", "min_std", "quantile"]),
        start in prop::sample::select(HUGE.iter().chain(["0", "1", "0.5", "1ns", "0s", "1d", "1000d"].iter()).copied().collect::<Vec<_>>()),
        end in prop::sample::select(HUGE.iter().chain(["0", "1", "16", "2s", "1000d", "106751d"].iter()).copied().collect::<Vec<_>>()),
        step in prop::sample::select(HUGE.iter().chain(["0", "1", "1e-9", "1ns", "1ms", "0s", "-1s"].iter()).copied().collect::<Vec<_>>()),
    ) {
        let t = format!("{name}:{key}={start}..{end}:{step}");
        if let Ok(s) = parse_spec(&t) { check_specs(&s) }
    }

    #[test]
    fn durations_survive_arbitrary_text(b in hostile_bytes(40), seed in any::<u64>()) {
        let seeds = ["250us", "100ms", "1.5s", "2m", "1h", "1d", "0ns", "106751d"];
        for t in [text(&b), text(&mutate(seeds[(seed % 8) as usize].as_bytes(), seed))] {
            if let Ok(d) = bounded("duration", t.as_bytes(), || fdbench::time::parse_duration(&t)) {
                prop_assert!(d.0 >= 0, "{t:?} gave a negative duration {d:?}");
            }
        }
    }

    #[test]
    fn rates_survive_arbitrary_text(b in hostile_bytes(40), seed in any::<u64>()) {
        let seeds = ["1/day", "10/h", "0.5/min", "2/s", "1/week"];
        for t in [text(&b), text(&mutate(seeds[(seed % 5) as usize].as_bytes(), seed))] {
            if let Ok(r) = bounded("rate", t.as_bytes(), || fdbench::tune::parse_rate(&t)) {
                prop_assert!(r.is_finite() && r >= 0.0, "{t:?} gave the rate {r}");
            }
        }
    }

    #[test]
    fn generator_flags_survive_arbitrary_text(b in hostile_bytes(80), seed in any::<u64>()) {
        let dists = ["5ms", "normal:mean=20ms,std=5ms", "lognormal:median=20ms,sigma=0.5", "exp:mean=5ms",
            "gamma:mean=5ms,shape=2", "pareto:min=1ms,alpha=2.5", "weibull:scale=5ms,shape=1.5",
            "uniform:min=100ms,max=2s"];
        let losses = ["none", "0.01", "bernoulli:rate=0.01", "ge:rate=0.004,burst=3",
            "ge:p_gb=0.001,p_bg=0.3,loss_good=0,loss_bad=1"];
        let everies = ["10m", "6/h", "2/m", "0.5/s", "off"];
        let d = text(&mutate(dists[(seed % 8) as usize].as_bytes(), seed));
        let l = text(&mutate(losses[(seed % 5) as usize].as_bytes(), seed));
        let e = text(&mutate(everies[(seed % 5) as usize].as_bytes(), seed));
        let raw = text(&b);
        for t in [&raw, &d] {
            if let Ok(d) = bounded("dist", t.as_bytes(), || t.parse::<Dist>()) {
                prop_assert!(d.validate().is_ok(), "{t:?} parsed but does not validate");
                prop_assert!(!d.mean_ns().is_nan(), "{t:?} has a NaN mean");
            }
        }
        for t in [&raw, &l] {
            if let Ok(l) = bounded("loss", t.as_bytes(), || t.parse::<Loss>()) {
                prop_assert!(l.validate().is_ok(), "{t:?} parsed but does not validate");
                let r = l.stationary_rate();
                prop_assert!((0.0..=1.0).contains(&r), "{t:?}: loss rate {r}");
            }
        }
        for t in [&raw, &e] {
            if let Ok(Every(Some(d))) = bounded("every", t.as_bytes(), || t.parse::<Every>()) {
                prop_assert!(d.0 > 0, "{t:?} gave {d:?}");
            }
        }
    }
}

/// Representative hostile inputs and the exact error each gives (the table in
/// reports/robustness.md comes from this test's output: `--nocapture`).
/// Every hostile value gets its exact message (lowercase, naming the value and the fix).
/// The tables are the ones `reports/robustness.md` publishes
/// (`-- --nocapture hostile huge_seq`).
#[test]
fn hostile_inputs_are_rejected_with_clear_errors() {
    let spec_cases: &[(&str, &str)] = &[
        (
            "fixed:timeout=0s..1000d:1ns",
            "fixed: the spec expands to 86400000000000000 values, more than the limit of 1000000; use a larger step or a shorter range",
        ),
        (
            "phi:window=1000000000000",
            "phi: window=1000000000000 is out of range; window must be an integer from 1 to 10000000",
        ),
        (
            "phi:threshold=NaN",
            "phi: threshold=NaN is out of range; threshold must be a finite number > 0",
        ),
        (
            "phi:threshold=0..1e308:1e-308",
            "phi: threshold=0 is out of range; threshold must be a finite number > 0",
        ),
        (
            "chen:alpha=1s..0s:10ms",
            "chen: alpha=1s..0s:10ms: the range is empty: END is below START; write START..END:STEP with START <= END",
        ),
        (
            "fixed:timeout=-5ms",
            "fixed: timeout=-5ms: duration '-5ms' is out of range; it must be between 0 and 292 years",
        ),
        (
            "phi:window=1.5",
            "phi: window=1.5: not a whole number; window must be an integer from 1 to 10000000",
        ),
        (
            "phi:window=10,window=20",
            "phi: parameter 'window' is given twice; give it once (a range START..END:STEP sweeps it)",
        ),
        (
            "nope:x=1",
            "unknown detector 'nope'; the detectors are: fixed, nfd-s, chen, bertier, phi, akka, exp-phi, satzger, 2w, akka-cluster, akka-remote-watch, pekko-multi-dc, cassandra, hazelcast, hazelcast-phi, etcd, kafka-consumer, kafka-broker, zookeeper-session, kubernetes-node, cockroach-liveness, redis-cluster",
        ),
    ];
    for &(t, want) in spec_cases {
        let e = parse_spec(t).expect_err(t).to_string();
        assert_eq!(e, want, "spec {t}");
        println!("| spec | `{t}` | {e} |");
    }
    let durations: &[(&str, &str)] = &[
        (
            "1e999s",
            "duration '1e999s' is out of range; it must be between 0 and 292 years",
        ),
        (
            "-1s",
            "duration '-1s' is out of range; it must be between 0 and 292 years",
        ),
        (
            "NaN s",
            "duration 'NaN s': unknown unit 'NaN s'; use ns, us, ms, s, m, h or d (e.g. 100ms)",
        ),
        (
            "300y",
            "duration '300y': unknown unit 'y'; use ns, us, ms, s, m, h or d (e.g. 100ms)",
        ),
        (
            "107000d",
            "duration '107000d' is out of range; it must be between 0 and 292 years",
        ),
        ("", "empty duration; write a number with a unit, e.g. 100ms"),
    ];
    for &(t, want) in durations {
        let e = fdbench::time::parse_duration(t).expect_err(t).to_string();
        assert_eq!(e, want, "duration {t}");
        println!("| duration | `{t}` | {e} |");
    }
    let rates: &[(&str, &str)] = &[
        ("1e999/h", "rate '1e999/h': the count must be a non-negative number"),
        ("-1/h", "rate '-1/h': the count must be a non-negative number"),
        (
            "1/fortnight",
            "rate '1/fortnight': write COUNT/UNIT with UNIT one of s, min, h, day, week (e.g. 1/day, 10/h)",
        ),
        ("NaN/h", "rate 'NaN/h': the count must be a non-negative number"),
    ];
    for &(t, want) in rates {
        let e = fdbench::tune::parse_rate(t).expect_err(t);
        assert_eq!(e, want, "rate {t}");
        println!("| rate | `{t}` | {e} |");
    }
    let dists: &[(&str, &str)] = &[
        (
            "normal:mean=20ms,std=-5ms",
            "'normal:mean=20ms,std=-5ms': std: duration '-5ms' is out of range; it must be between 0 and 292 years",
        ),
        (
            "pareto:min=1ms,alpha=0",
            "pareto:min=1ms,alpha=0: alpha must be a positive number",
        ),
        (
            "uniform:min=2s,max=1s",
            "uniform:min=2s,max=1s: min must not exceed max",
        ),
        (
            "1e30d",
            "duration '1e30d' is out of range; it must be between 0 and 292 years",
        ),
    ];
    for &(t, want) in dists {
        let e = t.parse::<Dist>().expect_err(t).to_string();
        assert_eq!(e, want, "dist {t}");
        println!("| dist | `{t}` | {e} |");
    }
    let losses: &[(&str, &str)] = &[
        (
            "1.5",
            "'1.5': rate=1.5 is out of range; a probability is between 0 and 1",
        ),
        (
            "NaN",
            "'NaN': rate=NaN is out of range; a probability is between 0 and 1",
        ),
        (
            "ge:rate=0.5,burst=0.1",
            "burst length 0.1 is out of range; give a mean number of heartbeats >= 1, e.g. 3",
        ),
    ];
    for &(t, want) in losses {
        let e = t.parse::<Loss>().expect_err(t).to_string();
        assert_eq!(e, want, "loss {t}");
        println!("| loss | `{t}` | {e} |");
    }
    let everys: &[(&str, &str)] = &[
        ("1e30/ns", "'1e30/ns' is too frequent"),
        ("0s", "'0s': the mean time between must be positive; write off for none"),
        ("-1/h", "'-1/h': '-1' is not a non-negative number of events"),
    ];
    for &(t, want) in everys {
        let e = t.parse::<Every>().expect_err(t).to_string();
        assert_eq!(e, want, "every {t}");
        println!("| every | `{t}` | {e} |");
    }
    let long_line = [b"seq,recv_ns\n1,".as_slice(), &vec![b'9'; 1 << 20], b"\n"].concat();
    let csv_cases: [(&str, &[u8], &str); 7] = [
        (
            "seq gap of 1e15",
            b"seq,recv_ns\n1,1\n1000000000000001,2\n",
            "accepted: 2 rows, 2 receipts",
        ),
        (
            "time past i64",
            b"seq,recv_ns\n1,1\n2,9223372036854775808\n",
            "fuzz.csv line 3: column recv_ns (field 2): '9223372036854775808' overflows 64-bit nanoseconds (largest 9223372036854775807)",
        ),
        (
            "duplicate seq",
            b"seq,recv_ns\n1,1\n1,2\n",
            "fuzz.csv line 3: seq 1 is not after 1; sort the rows by seq and remove duplicates",
        ),
        (
            "one heartbeat",
            b"seq,recv_ns\n1,1\n",
            "fuzz.csv: the trace has 1 receipt(s); at least two are needed to replay a detector",
        ),
        (
            "recv before send",
            b"seq,send_ns,recv_ns\n1,10,5\n2,20,25\n",
            "fuzz.csv line 2: recv_ns 5 is before send_ns 10; both must be on the monitor's clock",
        ),
        (
            "no header",
            b"1,2,3\n",
            "fuzz.csv line 1: bad header '1,2,3': unknown column '1'; the columns are seq, send_ns (optional) and recv_ns (use `fdbench import --format csv` for other layouts)",
        ),
        (
            "a 1 MiB line",
            &long_line,
            "fuzz.csv line 2: line longer than 4096 bytes; this is not a trace CSV file (is it binary, or missing newlines?)",
        ),
    ];
    for (what, b, want) in csv_cases {
        let got = match read_csv(b) {
            Ok(t) => format!("accepted: {} rows, {} receipts", t.len(), t.receipts()),
            Err(e) => e.to_string(),
        };
        assert_eq!(got, want, "trace csv: {what}");
        println!("| trace csv | {what} | {got} |");
    }
}

/// A gzip stream of comment lines (8 MiB inflated, 100 bytes a line) is refused at the
/// 64 KiB comment limit, its lines never held: at most 4 MiB allocated.
#[test]
fn a_gzip_of_comment_lines_is_refused_in_bounded_memory() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    let line = [b"# ".as_slice(), &[b'x'; 97], b"\n"].concat();
    for _ in 0..(8 << 20) / line.len() {
        enc.write_all(&line).unwrap();
    }
    enc.finish().unwrap();
    let (r, peak) = peak_of(|| fdbench::trace::csv::read_path(&path, None));
    assert!(peak < 4 << 20, "{peak} bytes");
    // 98 bytes counted per line (the body and its newline): line 669 passes 65,536.
    assert_eq!(
        r.unwrap_err().to_string(),
        format!(
            "{} line 669: more than 65536 bytes of comment lines before the header; this is not a trace CSV file (a trace has a few comment lines)",
            path.display()
        )
    );
}

/// A sequence gap of 10^15 between two rows is accepted by the streaming reader (lost
/// heartbeats are not materialized), and replaying it costs nothing extra.
#[test]
fn a_huge_seq_gap_costs_no_memory() {
    let b = b"seq,recv_ns\n1,1000\n2,2000\n1000000000000000,3000\n1000000000000001,4000\n";
    let (t, peak) = peak_of(|| fdbench::trace::csv::read(b.as_slice(), "gap.csv", None));
    assert!(peak < 4 << 20, "{peak} bytes for a 4-row trace");
    let t = t.unwrap();
    assert_eq!(t.len(), 4);
    let r = t.accepted();
    let cfg = &spec::parse("chen:window=2").unwrap()[0];
    let opts = Options {
        warmup: 2,
        deadline: Nanos::SECOND,
    };
    let (m, peak) = peak_of(|| sweep::evaluate(&r, &cfg.config, &[0.0, 1e6], &opts));
    assert!(peak < 1 << 20, "{peak} bytes to replay a 4-row trace");
    for m in m.unwrap() {
        let row = sweep::row(None, &cfg.config, 0.0, &m);
        assert_no_nan(&[row]);
    }
}

// ---------------------------------------------------------------------------------------
// Numeric extremes.

/// A trace from explicit rows `(seq, send, recv)`.
fn build(rows: impl IntoIterator<Item = (u64, Option<i64>, Option<i64>)>, with_send: bool, eta: i64) -> Trace {
    let mut b = TraceBuilder::new(with_send);
    for (s, send, recv) in rows {
        b.push(s, send.map(Nanos), recv.map(Nanos)).unwrap();
    }
    b.finish(Some((Nanos(eta), fdbench::trace::IntervalSource::Given)))
        .unwrap()
}

/// `n` heartbeats every `eta` from `start`, with a one-way delay alternating `d` and `d + jitter`.
fn regular(n: u64, start: i64, eta: i64, d: i64, jitter: i64, with_send: bool) -> Trace {
    build(
        (0..n).map(|i| {
            let send = start + i as i64 * eta;
            (i, Some(send), Some(send + d + if i % 2 == 1 { jitter } else { 0 }))
        }),
        with_send,
        eta,
    )
}

/// Every float of every row is finite, or `+inf` where the spec allows it (detection
/// times), and no output contains NaN.
fn assert_no_nan(rows: &[Row]) {
    for r in rows {
        let ctx = format!("{} {} {:?}", r.detector, r.params, r.value);
        for (name, v) in [
            ("evaluated_s", r.evaluated_s),
            ("mistake_rate_per_h", r.mistake_rate_per_h),
            ("query_accuracy", r.query_accuracy),
            ("completeness", r.completeness),
            ("deadline_ms", r.deadline_ms),
        ] {
            assert!(v.is_finite(), "{ctx}: {name} = {v}");
        }
        for (name, v) in [
            ("value", r.value),
            ("mistake_duration_mean_ms", r.mistake_duration_mean_ms),
            ("mistake_recurrence_mean_s", r.mistake_recurrence_mean_s),
        ] {
            assert!(v.is_none_or(f64::is_finite), "{ctx}: {name} = {v:?}");
        }
        for (name, v) in [
            ("detection_mean_ms", r.detection_mean_ms),
            ("detection_p50_ms", r.detection_p50_ms),
            ("detection_p99_ms", r.detection_p99_ms),
            ("detection_max_ms", r.detection_max_ms),
        ] {
            assert!(v.is_finite() || v == f64::INFINITY, "{ctx}: {name} = {v}");
            assert!(v >= 0.0, "{ctx}: {name} = {v}");
        }
        assert!(
            (0.0..=1.0).contains(&r.query_accuracy),
            "{ctx}: P_A {}",
            r.query_accuracy
        );
        assert!(
            (0.0..=1.0).contains(&r.completeness),
            "{ctx}: completeness {}",
            r.completeness
        );
        assert!(r.mistake_rate_per_h >= 0.0, "{ctx}");
    }
    for format in [Format::Csv, Format::Json] {
        let mut out = Vec::new();
        results::write(rows, format, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap().to_lowercase();
        assert!(!s.contains("nan"), "{format:?} output has NaN:\n{s}");
        assert!(!s.contains("-inf"), "{format:?} output has -inf:\n{s}");
        if format == Format::Csv {
            assert_eq!(results::read_csv(s.as_bytes(), "again").unwrap().len(), rows.len());
        }
    }
}

/// A few of `values` (ends and quartiles) plus the extreme values the knob allows.
fn knob_values(s: &spec::DetectorSpec) -> Vec<f64> {
    let v = &s.knob_values;
    let mut out: Vec<f64> = [0, v.len() / 4, v.len() / 2, v.len() - 1]
        .iter()
        .map(|&i| v[i])
        .collect();
    if let Some(knob) = s.config.knob() {
        for x in [0.0, 1e-6, 1.0, 1e6, 86_400e9, 1e18, f64::MAX] {
            if knob.range.contains(x) {
                out.push(x);
            }
        }
    }
    out
}

/// Every detector (default grid, the presets whose heartbeat is the trace's, and windows
/// of 1) at extreme knob values through both engines; rows must be free of NaN and both
/// engines must agree.
fn every_detector(r: &Receipts, warmup: usize, label: &str) -> usize {
    let mut specs = sweep::runnable(sweep::default_grid(), &[r]);
    specs.extend(sweep::runnable(sweep::presets(), &[r]));
    for name in ["chen", "bertier", "phi", "akka", "exp-phi", "satzger", "2w"] {
        let keys: Vec<String> = fdbench::detector::Config::named(name)
            .unwrap()
            .definition()
            .params
            .iter()
            .filter(|p| matches!(p.name, "window" | "n1" | "n2"))
            .map(|p| format!("{}=1", p.name))
            .collect();
        if let Ok(s) = spec::parse(&format!("{name}:{}", keys.join(","))) {
            specs.extend(s);
        }
    }
    for (threshold, name) in [
        (1e-6, "phi"),
        (1e6, "phi"),
        (1e-6, "akka"),
        (1e6, "akka"),
        (1e-6, "exp-phi"),
        (1e6, "exp-phi"),
    ] {
        specs.extend(spec::parse(&format!("{name}:threshold={threshold}")).unwrap());
    }
    let opts = Options {
        warmup,
        deadline: Nanos::SECOND,
    };
    let mut rows = Vec::new();
    for s in &specs {
        let knobs = knob_values(s);
        let family = sweep::evaluate(r, &s.config, &knobs, &opts).unwrap_or_else(|e| panic!("{label}: {e}"));
        for (k, m) in knobs.iter().zip(&family) {
            let mut d = s.config.detector(r.interval, *k);
            let single = replay::replay_detector(r, d.as_mut(), &opts).unwrap();
            let row = sweep::row(None, &s.config, *k, m);
            assert_eq!(
                row,
                sweep::row(None, &s.config, *k, &single),
                "{label}: {} {} at {k}: the engines disagree",
                s.config.name(),
                s.config.params()
            );
            rows.push(row);
        }
    }
    assert_no_nan(&rows);
    rows.len()
}

const W: usize = 1000;

#[test]
fn timestamps_near_the_top_of_i64() {
    let top = 9_200_000_000_000_000_000;
    for with_send in [false, true] {
        let t = regular(W as u64 + 200, top, 1_000_000, 500_000, 300_000, with_send);
        every_detector(&t.accepted(), W, "near i64::MAX");
    }
    // The last receipts at i64::MAX itself.
    let n = W as i64 + 50;
    let t = build(
        (0..n).map(|i| (i as u64, None, Some(i64::MAX - (n - 1 - i) * 1_000_000_000))),
        false,
        1_000_000_000,
    );
    every_detector(&t.accepted(), W, "ending at i64::MAX");
}

#[test]
fn intervals_of_one_nanosecond_and_of_days() {
    let t = regular(W as u64 + 200, 0, 1, 0, 1, true);
    every_detector(&t.accepted(), W, "1 ns interval");
    let day = 86_400_000_000_000;
    let t = regular(W as u64 + 200, 0, day, day / 10, day / 7, true);
    every_detector(&t.accepted(), W, "1 day interval");
}

#[test]
fn zero_variance_and_identical_samples() {
    // Every interval identical, every delay identical.
    let t = regular(W as u64 + 200, 5, 100_000_000, 1_000_000, 0, true);
    every_detector(&t.accepted(), W, "zero variance");
    // Every receipt at the same instant: a clear error, not a division by zero.
    let t = build((0..2000).map(|i| (i, None, Some(42))), false, 1);
    let e = replay::evaluated_length(&t.accepted(), W).unwrap_err();
    assert!(e.to_string().contains("zero length"), "{e}");
    let specs = sweep::default_grid();
    let st = [sweep::SweepTrace {
        name: "same".into(),
        receipts: t.accepted(),
    }];
    let e = sweep::Plan::new(&st, &specs, Options::default(), None, false).unwrap_err();
    assert!(e.to_string().contains("zero length"), "{e}");
}

#[test]
fn warmup_and_window_of_one() {
    let t = regular(50, 0, 1_000_000, 10, 7, false);
    for name in ["chen", "bertier", "phi", "akka", "exp-phi", "satzger", "2w"] {
        let keys: Vec<String> = fdbench::detector::Config::named(name)
            .unwrap()
            .definition()
            .params
            .iter()
            .filter(|p| matches!(p.name, "window" | "n1" | "n2"))
            .map(|p| format!("{}=1", p.name))
            .collect();
        let specs = spec::parse(&format!("{name}:{}", keys.join(",")))
            .unwrap_or_else(|e| panic!("{name} with windows of 1: {e}"));
        let opts = Options {
            warmup: 1,
            deadline: Nanos(1),
        };
        let mut rows = Vec::new();
        for s in &specs {
            let knobs = knob_values(s);
            for (k, m) in knobs
                .iter()
                .zip(sweep::evaluate(&t.accepted(), &s.config, &knobs, &opts).unwrap())
            {
                rows.push(sweep::row(None, &s.config, *k, &m));
            }
        }
        assert_no_nan(&rows);
    }
}

#[test]
fn a_single_heartbeat_is_a_clear_error() {
    let mut b = TraceBuilder::new(false);
    b.push(1, None, Some(Nanos(5))).unwrap();
    let e = b.finish(None).unwrap_err().to_string();
    assert!(e.contains("at least two"), "{e}");
    let e = fdbench::trace::csv::read(b"seq,recv_ns\n1,5\n".as_slice(), "one.csv", None)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("one.csv") && e.contains("at least two"), "{e}");
}

#[test]
fn all_heartbeats_lost_after_warmup() {
    // Receipts stop after the warm-up: nothing left to evaluate, a clear error.
    let t = build(
        (0..W as u64 + 500).map(|i| (i, None, (i < W as u64).then_some(i as i64 * 1_000_000))),
        false,
        1_000_000,
    );
    let e = replay::evaluated_length(&t.accepted(), W).unwrap_err().to_string();
    assert!(e.contains("warm-up"), "{e}");
    // Everything lost after the warm-up but one last receipt a day later.
    let n = W as u64 + 100_000;
    let t = build(
        (0..n).map(|i| {
            let recv = if i <= W as u64 {
                Some(i as i64 * 1_000_000)
            } else {
                None
            };
            (i, None, if i == n - 1 { Some(86_400_000_000_000) } else { recv })
        }),
        false,
        1_000_000,
    );
    every_detector(&t.accepted(), W, "lost after warm-up");
}

#[test]
fn extreme_deadlines() {
    let t = regular(W as u64 + 100, 0, 1_000_000, 10, 999_999, true);
    let r = t.accepted();
    for d in [Nanos::ZERO, Nanos(1), Nanos::MAX] {
        let opts = Options { warmup: W, deadline: d };
        let mut rows = Vec::new();
        for s in sweep::default_grid() {
            let knobs = knob_values(&s);
            for (k, m) in knobs.iter().zip(sweep::evaluate(&r, &s.config, &knobs, &opts).unwrap()) {
                rows.push(sweep::row(None, &s.config, *k, &m));
            }
        }
        if d == Nanos::MAX {
            // deadline_ms is reported as a finite number even for the largest deadline.
            for r in &rows {
                assert!(r.deadline_ms.is_finite());
            }
        }
        assert_no_nan(&rows);
    }
}

// ---------------------------------------------------------------------------------------
// The binary: interruption and unwritable outputs.

const BIN: &str = env!("CARGO_BIN_EXE_fdbench");

/// Polls `cond` every millisecond for at most `limit`.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    false
}

fn kill(child: &mut Child, signal: libc::c_int) {
    // SAFETY: `kill` on the pid of a child this test spawned and has not yet reaped.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
}

/// Waits for the child for at most 60 s, killing it after that.
fn reap(child: &mut Child) -> std::process::ExitStatus {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            return child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn write_trace(dir: &Path, n: u64) -> PathBuf {
    let t = regular(n, 0, 100_000_000, 1_000_000, 3_000_000, true);
    let p = dir.join("trace.csv");
    fdbench::trace::csv::write_path(&t, &p).unwrap();
    p
}

/// An output that cannot be written is a clear error with exit code 1, and nothing is
/// destroyed. Tests run as root, where permissions do not stop writes, so the
/// destinations are paths under a file (`/dev/null/x.csv`) and under /proc.
#[test]
fn unwritable_outputs_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), 1_200);
    let good = std::fs::read(&trace).unwrap();
    for (dest, why) in [
        ("/dev/null/x.csv", "Not a directory (os error 20)"),
        ("/proc/fdbench-x.csv", "No such file or directory (os error 2)"),
        ("/proc/self/status", "No such file or directory (os error 2)"),
    ] {
        let o = Command::new(BIN)
            .args(["sweep", "-q", "--detector", "fixed:timeout=1s"])
            .arg(&trace)
            .args(["-o", dest])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{dest}: {err}");
        assert_eq!(err, format!("error: writing {dest}: {why}\n"));
        println!("| sweep -o {dest} | {} |", err.trim().replace('\n', " "));
    }
    // A trace written over an existing file that is a directory's path.
    let o = Command::new(BIN)
        .args(["generate", "--preset", "lan", "--duration", "1m", "-o"])
        .arg(trace.join("x.csv"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(
        err,
        format!(
            "error: cannot write {}: Not a directory (os error 20)\n",
            trace.join("x.csv").display()
        )
    );
    println!("| generate -o trace.csv/x.csv | {} |", err.trim().replace('\n', " "));
    assert_eq!(std::fs::read(&trace).unwrap(), good);
    let o = Command::new(BIN)
        .args([
            "report",
            "--preset",
            "lan",
            "--duration",
            "1m",
            "-o",
            "/proc/fdbench-report",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    // The staging folder's name ends in 64 random bits (16 hex digits).
    let (head, tail) = err
        .split_once(".fdbench-report.tmp-")
        .unwrap_or_else(|| panic!("{err}"));
    assert_eq!(head, "error: report /proc/fdbench-report: /proc/");
    assert_eq!(
        tail.len(),
        16 + ": No such file or directory (os error 2)\n".len(),
        "{err}"
    );
    assert!(tail.ends_with(": No such file or directory (os error 2)\n"), "{err}");
    println!("| report -o /proc/fdbench-report | {} |", err.trim().replace('\n', " "));
}

/// Extreme traces through the whole binary: the CSV and JSON it writes have no NaN.
#[test]
fn the_binary_writes_no_nan_on_extreme_traces() {
    let dir = tempfile::tempdir().unwrap();
    let traces = [
        regular(1_100, 9_200_000_000_000_000_000, 1_000_000, 0, 0, true),
        regular(1_100, 0, 1, 0, 0, false),
    ];
    for (i, t) in traces.iter().enumerate() {
        let p = dir.path().join(format!("t{i}.csv"));
        fdbench::trace::csv::write_path(t, &p).unwrap();
        for format in ["csv", "json"] {
            let o = Command::new(BIN)
                .args(["sweep", "-q", "--warmup", "1000", "--format", format])
                .arg(&p)
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            assert!(o.status.success(), "{err}");
            let s = String::from_utf8_lossy(&o.stdout).to_lowercase();
            assert!(!s.contains("nan"), "trace {i} {format}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// Importers, delay models and the UDP packet decoder.

use fdbench::record::packet::{self, Packet};
use fdbench::trace::import::{self, ImportFormat, delay::DelayModel, generic, lip6, ping, send_times};

const PING: &str = "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
[1732550000.100000] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.040 ms
[1732550000.300100] 64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.052 ms
[1732550000.600000] no answer yet for icmp_seq=3
[1732550000.700050] 64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.061 ms
[1732550000.700090] 64 bytes from 127.0.0.1: icmp_seq=4 ttl=64 time=0.101 ms (DUP!)
[1732550000.900020] From 127.0.0.1 icmp_seq=5 Destination Host Unreachable
[1732550001.100000] 64 bytes from 127.0.0.1: icmp_seq=6 ttl=64 time=12.5 ms

--- 127.0.0.1 ping statistics ---
6 packets transmitted, 4 received, +1 duplicates, 33.3333% packet loss, time 1000ms
";

const LIP6: &str = "7 0 10965460769347846 2439202604391108 14
3 0 56000000000000 2439202604500000 9
7 1 10965460869347846 2439202704391108 14
7 3 10965461069347846 2439202904391108 14
7 2 10965460969347846 2439202905391108 15
";

const SENT: &str = "numseq,timestamp_start_send,timestamp_end_send
0,10965460769314089,10965460788896345
1,10965460869347471,10965460869403196
2,10965462199319551,10965462199457088
3,10965462269300487,10965462269351691
";

const GENERIC: &str = "host,t_recv,seqno\na,1.5,1\na,1.75,2\na,,3\na,2.25,4\n";

/// Every importer with the input it reads.
fn importers() -> Vec<(ImportFormat, &'static str)> {
    vec![
        (ImportFormat::Ping(ping::Options::default()), PING),
        (ImportFormat::Ping(ping::Options { send: false }), PING),
        (
            ImportFormat::Lip6(lip6::Options {
                site: 7,
                assume_synced: true,
            }),
            LIP6,
        ),
        (
            ImportFormat::Lip6(lip6::Options {
                site: 7,
                assume_synced: false,
            }),
            LIP6,
        ),
        (ImportFormat::SendTimes(send_times::Options::default()), SENT),
        (
            ImportFormat::SendTimes(send_times::Options {
                delay: "lognormal:10ms,0.5".parse().unwrap(),
                loss: 0.3,
                seed: 9,
            }),
            SENT,
        ),
        (
            ImportFormat::Csv(generic::Options {
                seq: Some(generic::Column::Name("seqno".into())),
                send: None,
                recv: generic::Column::Name("t_recv".into()),
                unit: generic::Unit::S,
                header: true,
                delimiter: ',',
            }),
            GENERIC,
        ),
        (
            ImportFormat::Csv(generic::Options::default()),
            "seq,send_ns,recv_ns\n1,0,5\n2,10,15\n3,20,\n",
        ),
    ]
}

fn import_bytes(format: &ImportFormat, b: &[u8]) -> Result<Trace, fdbench::trace::csv::ReadError> {
    bounded("importer", b, || import::import_reader(format, b, "fuzz.log", None))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn importers_survive_arbitrary_bytes(b in hostile_bytes(512)) {
        for (format, _) in importers() {
            match import_bytes(&format, &b) {
                Ok(t) => check_trace(&t),
                Err(e) => prop_assert!(e.to_string().starts_with("fuzz.log"), "{e}"),
            }
        }
    }

    #[test]
    fn importers_survive_mutations(seed in any::<u64>()) {
        for (format, valid) in importers() {
            let b = mutate(valid.as_bytes(), seed);
            match import_bytes(&format, &b) {
                Ok(t) => check_trace(&t),
                Err(e) => prop_assert!(e.to_string().starts_with("fuzz.log"), "{e}"),
            }
        }
    }

    #[test]
    fn delay_models_survive_arbitrary_text(b in hostile_bytes(40), seed in any::<u64>()) {
        let seeds = ["constant:10ms", "uniform:5ms..15ms", "lognormal:10ms,0.5"];
        for t in [text(&b), text(&mutate(seeds[(seed % 3) as usize].as_bytes(), seed))] {
            if let Ok(d) = bounded("delay model", t.as_bytes(), || t.parse::<DelayModel>()) {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                for _ in 0..4 {
                    let x = d.sample(&mut rng);
                    prop_assert!(x >= Nanos::ZERO && x <= import::delay::MAX_DELAY, "{t:?} drew {x:?}");
                }
            }
        }
    }

    #[test]
    fn the_packet_decoder_survives_arbitrary_and_mutated_datagrams(
        raw in prop::collection::vec(any::<u8>(), 0..80),
        session in any::<u64>(), seq in any::<u64>(), send in any::<i64>(), interval in any::<i64>(), seed in any::<u64>(),
    ) {
        let valid = Packet { session, seq, send_ns: send, interval_ns: interval }.encode();
        for b in [raw.clone(), mutate(&valid, seed), valid.to_vec()] {
            if let Ok(p) = packet::Packet::decode(&b) {
                let again = p.encode();
                prop_assert_eq!(again.as_slice(), b.as_slice(), "decode then encode gives the datagram back");
                prop_assert!(p.interval_ns > 0 && p.send_ns >= 0);
            }
        }
    }
}

/// A seq gap of 10^15 in an importer is rejected, not filled with 10^15 lost rows.
#[test]
fn importers_reject_a_huge_seq_gap() {
    let cases = [
        (
            ImportFormat::Csv(generic::Options {
                seq: Some(generic::Column::Name("seq".into())),
                send: Some(generic::Column::Name("send_ns".into())),
                recv: generic::Column::Name("recv_ns".into()),
                ..generic::Options::default()
            }),
            "seq,send_ns,recv_ns\n1,0,5\n2,10,15\n1000000000000000,20,25\n".to_string(),
        ),
        (
            ImportFormat::SendTimes(send_times::Options::default()),
            "numseq,timestamp_start_send,timestamp_end_send\n0,100,200\n1,200,300\n1000000000000000,300,400\n"
                .to_string(),
        ),
        (
            ImportFormat::Lip6(lip6::Options {
                site: 7,
                assume_synced: false,
            }),
            "7 0 10965460769347846 2439202604391108 14\n7 1 10965460869347846 2439202704391108 14\n7 1000000000000000 10965460969347846 2439202804391108 14\n".to_string(),
        ),
        (
            ImportFormat::Ping(ping::Options::default()),
            "[1732550000.100000] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.040 ms\n[1732550000.300100] 64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.052 ms\n[1732550000.500100] 64 bytes from 127.0.0.1: icmp_seq=1000000000000000 ttl=64 time=0.052 ms\n".to_string(),
        ),
    ];
    let expected = [
        "gap.log line 4: seq 1000000000000000 jumps 999999999999998 past the previous largest seq 2 (more than 16777216); the sequence numbers are corrupt or wrap",
        "gap.log line 4: seq 1000000000000000 jumps 999999999999999 past the previous largest seq 1 (more than 16777216); the sequence numbers are corrupt or wrap",
        "gap.log line 3: seq 1000000000000000 jumps 999999999999999 past the previous largest seq 1 (more than 16777216); the sequence numbers are corrupt or wrap",
        "gap.log line 3: seq 1000000000000000 jumps 999999999999998 past the previous largest seq 2 (more than 16777216); the sequence numbers are corrupt or wrap",
    ];
    for ((format, input), want) in cases.into_iter().zip(expected) {
        let (r, peak) = peak_of(|| import::import_reader(&format, input.as_bytes(), "gap.log", None));
        assert!(peak < 8 << 20, "{format:?}: {peak} bytes");
        match r {
            Ok(t) => panic!("{format:?}: a gap of 1e15 was accepted ({} rows)", t.len()),
            Err(e) => {
                assert_eq!(e.to_string(), want, "{format:?}");
                let name = format!("{format:?}");
                println!(
                    "| import {} | seq gap of 1e15 | {e} |",
                    name.split('(').next().unwrap_or_default()
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The recorder under a flood of garbage and spoofed datagrams.

fn vm_rss_kb(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The value of `key=N` in the `# counters:` comment of a recorded trace.
fn counter(trace: &str, key: &str) -> u64 {
    let line = trace
        .lines()
        .find(|l| l.starts_with("# counters:"))
        .expect("a counters comment");
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {key} in {line}"))
}

/// A `record listen` on loopback, accepting only the test's sender socket, is flooded by
/// garbage and spoofed packets from another socket (and by other sessions and absurd
/// sequence numbers from the sender's own address). It must keep running with flat
/// memory, record only the real heartbeats, count the rest, and stop cleanly on SIGINT.
#[test]
fn the_recorder_survives_a_flood_of_garbage_and_spoofed_packets() {
    use std::io::{BufRead, BufReader};
    use std::net::UdpSocket;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flood.csv");
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut listener = Command::new(BIN)
        .args([
            "record",
            "listen",
            "127.0.0.1:0",
            "--flush-every",
            "10ms",
            "--reorder-window",
            "5ms",
        ])
        .arg("--from")
        .arg(sender.local_addr().unwrap().to_string())
        .arg("-o")
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = listener.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut lines = BufReader::new(stderr).lines();
        let _ = tx.send(lines.next().and_then(Result::ok).unwrap_or_default());
        lines.for_each(drop);
    });
    let first = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the listener names its address");
    let to: std::net::SocketAddr = first
        .strip_prefix("listening on ")
        .and_then(|s| s.split(';').next())
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .parse()
        .unwrap();
    let session = 0x5eed_u64;
    // The handshake: a hello, and the cookie of the receiver's challenge.
    let hello = packet::Message::Hello {
        session,
        interval_ns: 10_000_000,
    };
    sender.send_to(&packet::encode(&hello, None), to).unwrap();
    sender.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut reply = [0u8; 64];
    let n = sender.recv(&mut reply).expect("the listener answers the hello");
    let Ok(packet::Message::Challenge { cookie, .. }) = packet::decode(&reply[..n], None) else {
        panic!("not a challenge: {:?}", &reply[..n]);
    };
    let beat = |seq: u64, session: u64| {
        let packet = Packet {
            session,
            seq,
            send_ns: fdbench::record::socket::realtime_ns(),
            interval_ns: 10_000_000,
        };
        packet::encode(&packet::Message::Heartbeat { packet, cookie }, None)
    };
    // The recorder writes through a temporary `.flood.csv.tmp-…` until it stops.
    let tmp_dir = dir.path().to_path_buf();
    let read_tmp = || -> std::io::Result<String> {
        let e = std::fs::read_dir(&tmp_dir)?
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with(".flood.csv.tmp-"))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        std::fs::read_to_string(e.path())
    };
    // Warm up: real heartbeats until some rows are on disk.
    let mut seq = 0u64;
    assert!(
        wait_for(Duration::from_secs(20), || {
            sender.send_to(&beat(seq, session), to).unwrap();
            seq += 1;
            read_tmp().is_ok_and(|s| s.lines().filter(|l| l.starts_with(char::is_numeric)).count() >= 10)
        }),
        "no rows recorded"
    );
    let rss_before = vm_rss_kb(listener.id());
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (mut garbage, mut spoofed) = (0u64, 0u64);
    let real_start = seq;
    for _ in 0..200 {
        sender.send_to(&beat(seq, session), to).unwrap();
        seq += 1;
        for k in 0..500u64 {
            let bytes: Vec<u8> = match k % 5 {
                0 => (0..rng.random_range(0..100)).map(|_| rng.random()).collect(),
                1 => {
                    let mut b = beat(seq + rng.random_range(0..4), session);
                    b[rng.random_range(0..packet::SIZE)] ^= 1 << rng.random_range(0..8);
                    b.to_vec()
                }
                // Spoofed: the real session and plausible seqs, from another port.
                2 => beat(seq + rng.random_range(0..4), session).to_vec(),
                3 => beat(rng.random(), rng.random()).to_vec(),
                _ => beat(seq + (1 << 40) + k, session).to_vec(),
            };
            if k % 5 == 4 || (matches!(k % 5, 0 | 3) && k % 2 == 0) {
                // From the sender's own address: junk, other sessions, absurd seqs. (A packet
                // with the right session and a plausible seq from that address is a real
                // heartbeat as far as the unauthenticated protocol can tell.)
                let _ = sender.send_to(&bytes, to);
            } else {
                let _ = attacker.send_to(&bytes, to);
            }
            if k % 5 == 2 {
                spoofed += 1;
            } else {
                garbage += 1;
            }
        }
    }
    let real_end = seq;
    // Real heartbeats until one sent after the flood is on disk (the flood may have
    // filled the socket buffer, so keep sending), then Ctrl-C.
    assert!(
        wait_for(Duration::from_secs(20), || {
            sender.send_to(&beat(seq, session), to).unwrap();
            seq += 1;
            read_tmp().is_ok_and(|s| {
                s.lines()
                    .filter_map(|l| l.split(',').next()?.parse::<u64>().ok())
                    .any(|s| s >= real_end)
            })
        }),
        "no heartbeat recorded after the flood"
    );
    let rss_after = vm_rss_kb(listener.id());
    kill(&mut listener, libc::SIGINT);
    let status = reap(&mut listener);
    assert!(status.success(), "{status:?}");
    let text = std::fs::read_to_string(&out).unwrap();
    let trace = fdbench::trace::csv::read(text.as_bytes(), "flood.csv", None).unwrap();
    let seqs: Vec<u64> = trace.rows().filter(|r| r.2.is_some()).map(|r| r.0).collect();
    assert!(seqs.iter().all(|&s| s < seq), "a spoofed seq was recorded");
    let kept = seqs.iter().filter(|&&s| (real_start..real_end).contains(&s)).count();
    let datagrams = counter(&text, "datagrams");
    let rejected: u64 = [
        "malformed",
        "foreign",
        "other_session",
        "out_of_window",
        "duplicate",
        "stale",
    ]
    .iter()
    .map(|k| counter(&text, k))
    .sum();
    println!(
        "flood: {garbage} garbage + {spoofed} spoofed sent, {datagrams} datagrams read, {rejected} rejected \
         (malformed {}, foreign {}, other_session {}, out_of_window {}), {kept}/200 real heartbeats kept during the \
         flood, VmRSS {rss_before} -> {rss_after} kB",
        counter(&text, "malformed"),
        counter(&text, "foreign"),
        counter(&text, "other_session"),
        counter(&text, "out_of_window"),
    );
    // Every datagram sent: the flood, the heartbeats and the hello.
    assert!(rejected > 0 && datagrams <= garbage + spoofed + seq + 1);
    assert_eq!(counter(&text, "accepted"), counter(&text, "written"));
    assert!(
        rss_after < rss_before + 16 * 1024,
        "VmRSS grew from {rss_before} to {rss_after} kB"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile command lines through the binary: one kind of error each, one exact message.

/// Runs `fdbench ARGS` in `dir` under a 1 GiB address-space limit (so that a limit
/// checked after a large allocation fails here) and returns (exit code, stderr).
fn run_limited(dir: &Path, args: &[String]) -> (Option<i32>, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir).args(args);
    // SAFETY: setrlimit is async-signal-safe and touches only the child's own limits.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 1 << 30,
                rlim_max: 1 << 30,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Every flag at its extreme and every hostile file is refused before any work with exit
/// code 2 (usage: flags, spec strings, ranges, limits) or 1 (data), and one line naming
/// the input and the fix, each cause said once. The table is the one
/// `reports/robustness.md` publishes (`-- --nocapture hostile_command_lines`).
#[test]
fn hostile_command_lines_exit_with_one_exact_message() {
    let dir = tempfile::tempdir().unwrap();
    let trace = write_trace(dir.path(), 1_200);
    std::fs::rename(&trace, dir.path().join("t.csv")).unwrap();
    std::fs::write(
        dir.path().join("bom.csv"),
        b"\xEF\xBB\xBFseq,recv_ns\n1,100\n2,200\n3,300\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("ping.log"),
        "[1732550000.123456] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.045 ms\n\
         [1732550001.123456] 64 bytes from 127.0.0.1: icmp_seq=12a ttl=64 time=0.045 ms\n",
    )
    .unwrap();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let out = format!("part-{i}.csv");
        let a = args(&[
            "sweep",
            "t.csv",
            "-q",
            "--warmup",
            "100",
            "--shard",
            &shard,
            "-d",
            "fixed:timeout=100ms..1s:100ms",
            "-o",
            &out,
        ]);
        assert_eq!(run_limited(dir.path(), &a), (Some(0), String::new()));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let max = u64::MAX.to_string();
    let thousand: Vec<String> = (0..1000)
        .flat_map(|_| ["-d".to_string(), "fixed:timeout=1ns..1ms:1ns".to_string()])
        .collect();
    let short = "the trace has 1200 accepted receipts, but the warm-up takes 18446744073709551615 and at least 2 more are needed to evaluate; use a longer trace or a smaller --warmup (and smaller windows)";
    let cases: Vec<(Vec<String>, i32, String)> = vec![
        (
            [vec!["sweep".into(), "t.csv".into()], thousand].concat(),
            2,
            "error: --detector 'fixed:timeout=1ns..1ms:1ns': the --detector specs before it expand to 1000000 values and this one to 1000000 more, over the limit of 1000000 for all of them together; use larger steps or shorter ranges".into(),
        ),
        (
            args(&["sweep", "t.csv", "-d", "fixed:timeout=1ns..1ms:1ns"]),
            2,
            "error: the grid has 1000000 rows over 200 heartbeats (limit 50000 rows and 2e11 row-heartbeats); narrow the ranges, use --shard, or pass --force".into(),
        ),
        (
            args(&["sweep", "t.csv", "-d", "phi", "--warmup", "10"]),
            2,
            "error: --warmup 10 is less than the largest window in the comparison (1000, phi); every detector must be judged on the same evaluated interval: raise --warmup or lower the window".into(),
        ),
        (
            args(&["replay", "t.csv", "-d", "phi", "--warmup", &max]),
            1,
            format!("error: trace t.csv: {short}"),
        ),
        (
            args(&["sweep", "t.csv", "-d", "phi", "--warmup", &max]),
            1,
            format!("error: trace t.csv: {short}"),
        ),
        (args(&["tune", "t.csv", "--warmup", &max]), 1, format!("error: t.csv: {short}")),
        (
            args(&["explain", "t.csv", "-d", "phi", "--warmup", &max]),
            1,
            format!("error: t.csv: {short}"),
        ),
        (
            args(&["report", "-q", "--trace", "t.csv", "--warmup", &max, "-o", "rep"]),
            1,
            "error: report rep: the trace has 1200 accepted heartbeats; a report needs at least 18446744073709551615 (18446744073709551615 to train the detectors, then 10 to evaluate); give a smaller --warmup or a longer trace".into(),
        ),
        (
            args(&["explain", "t.csv", "-d", "phi:threshold=1|2"]),
            2,
            "error: --detector 'phi:threshold=1|2' has 2 knob values; explain takes one (write e.g. threshold=8, not a range)".into(),
        ),
        (
            args(&["report", "-q", "--duration", "100000h", "-o", "rep"]),
            2,
            "error: --duration: 3600000000 heartbeats at interval 100ms; a trace held in memory has at most 100000000: give a shorter length, or write the trace to a file with `fdbench generate` (which streams) and use the file".into(),
        ),
        (
            args(&["generate", "--count", "1", "-o", "g.csv"]),
            2,
            "error: --count: 1 heartbeats; at least 2 are needed".into(),
        ),
        (
            args(&["generate", "--count", "10", "--loss", "1", "-o", "g.csv"]),
            1,
            "error: the generated trace is not valid: the trace has 0 receipt(s); at least two are needed to replay a detector; lower --loss or generate more heartbeats".into(),
        ),
        (
            args(&["merge", "t.csv"]),
            1,
            "error: t.csv line 3: missing field `detector`; is this a results file from `fdbench sweep`?".into(),
        ),
        (
            args(&["import", "--format", "ping", "ping.log", "-o", "i.csv"]),
            1,
            "error: ping.log line 2: icmp_seq=12a is not a sequence number (a whole number, e.g. icmp_seq=12)".into(),
        ),
        (
            args(&["sweep", "t.csv", "-j", "0"]),
            2,
            "error: -j 0: give at least one thread".into(),
        ),
        (
            args(&["sweep", "t.csv", "-j", "100000"]),
            2,
            format!(
                "error: -j 100000: more than 4 threads per core ({cores} cores, at most {}); give -j {cores}, or add --force-threads",
                4 * cores
            ),
        ),
        (
            args(&["merge", "part-1.csv", "part-1.csv", "part-2.csv", "part-3.csv"]),
            1,
            "error: part-1.csv and part-1.csv: are both shard 1/3; give each shard once".into(),
        ),
        (
            args(&["merge", "part-2.csv", "part-3.csv"]),
            1,
            "error: shard(s) 1/3 missing; give all 3 shards of the sweep".into(),
        ),
        (
            args(&["sweep", "t.csv", "-o", "t.csv"]),
            2,
            "error: t.csv: is the same file as the input t.csv; writing it would destroy the input, so write the output to another path".into(),
        ),
        (
            args(&["sweep", "t.csv", "--quorum", "2"]),
            2,
            "error: --quorum: only for a cluster folder (a folder with cluster.json); a trace file has one monitor and one target, so drop the flag".into(),
        ),
        (
            args(&["replay", "t.csv", "-d", "fixed:timeout=1e999s"]),
            2,
            "error: --detector 'fixed:timeout=1e999s': fixed: timeout=1e999s: duration '1e999s' is out of range; it must be between 0 and 292 years".into(),
        ),
    ];
    let before = std::fs::read(dir.path().join("t.csv")).unwrap();
    for (argv, code, want) in &cases {
        let (got_code, err) = run_limited(dir.path(), argv);
        let shown = shown(argv);
        assert_eq!(err, format!("{want}\n"), "fdbench {shown}");
        assert_eq!(got_code, Some(*code), "fdbench {shown}: {err}");
        println!(
            "| `fdbench {shown}` | {code} | {} |",
            want.trim_start_matches("error: ")
        );
    }
    assert_eq!(std::fs::read(dir.path().join("t.csv")).unwrap(), before);
    assert!(!dir.path().join("g.csv").exists() && !dir.path().join("rep").exists());
    // A broken array-job environment is a usage error, as the flag it stands for would be.
    for (vars, want) in [
        (
            [("SLURM_ARRAY_TASK_ID", "x"), ("SLURM_ARRAY_TASK_COUNT", "3")],
            "error: SLURM_ARRAY_TASK_ID=x is not a non-negative integer; unset it or give --shard I/N\n",
        ),
        (
            [("SLURM_ARRAY_TASK_ID", "7"), ("SLURM_ARRAY_TASK_COUNT", "3")],
            "error: SLURM_ARRAY_TASK_ID: shard 8 of 3 is out of range; give --shard I/N to choose one\n",
        ),
    ] {
        let o = Command::new(BIN)
            .current_dir(dir.path())
            .args(["sweep", "t.csv", "-q", "-o", "s.csv"])
            .envs(vars)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&o.stderr), want);
        assert_eq!(o.status.code(), Some(2), "{want}");
    }
    assert!(!dir.path().join("s.csv").exists());
    // A byte order mark is skipped; a bad interval flag is clap's usage error.
    let (code, err) = run_limited(dir.path(), &args(&["stats", "bom.csv"]));
    assert_eq!((code, err.as_str()), (Some(0), ""));
    let (code, err) = run_limited(dir.path(), &args(&["replay", "t.csv", "-d", "phi", "--interval", "0s"]));
    assert_eq!(code, Some(2));
    assert_eq!(
        err,
        "error: invalid value '0s' for '--interval <DURATION>': interval '0s' is not positive; give e.g. 100ms\n\nFor more information, try '--help'.\n"
    );
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// A command line as the table shows it: 1000 repeated `-d` flags as `1000 × -d SPEC`.
fn shown(argv: &[String]) -> String {
    let d = argv.iter().filter(|a| *a == "-d").count();
    if d > 10 {
        format!("{} {} {d} × -d '{}'", argv[0], argv[1], argv[3])
    } else {
        argv.iter()
            .map(|a| {
                if a.contains(['|', ' ']) {
                    format!("'{a}'")
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}
