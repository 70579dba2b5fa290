//! Golden numbers end to end: hand-designed traces in `tests/data` whose every results
//! column is worked out by hand from evaluation.md below, and asserted through the
//! command line in each format that prints them (sweep CSV and JSON, replay table and
//! CSV, tune table and CSV).
//!
//! # `golden.csv` (η = 100 ms, send times, warm-up 2, D = 180 ms)
//!
//! ```text
//! seq  send  recv            accepted   a_j - send
//!  1      0    10            a_0  s1    (warm-up)
//!  2    100   110            a_1  s2    (warm-up)
//!  3    200   215            a_2  s3    15
//!  4    300    -  lost
//!  5    400   420            a_3  s5    20
//!  6    500   510            a_4  s6    10
//!  7    600   640            a_5  s7    40
//!  9    800   820            a_6  s9    20
//!  8    700   830  stale (after s9)
//! 10    900   940            a_7  s10   40
//! ```
//!
//! Evaluated: 6 accepted receipts (j = 2..7), `L = 940 - 215 = 725 ms`; gaps j = 2..6 are
//! 205, 90, 130, 180, 120 ms; the warm-up's last gap (105 ms) ends in trust for every
//! setting below, and every deadline is after its own receipt.
//!
//! `fixed:timeout=T`, `τ_j = a_j + T`, gap j is a mistake iff `gap > T`, suspecting
//! `gap - T`:
//! - T = 120: gaps 205, 130, 180 → 3 mistakes, S = 85 + 10 + 60 = 155 ms; the 120 ms
//!   gap ends exactly at the deadline (no mistake).
//! - T = 160: gaps 205, 180 → 2 mistakes, S = 45 + 20 = 65 ms.
//! - T = 200: gap 205 → 1 mistake, S = 5 ms.
//! - T = 240: none.
//!
//! `T_D(j) = a_j + T - send(s_j)` = delay + T with delays {15, 20, 10, 40, 20, 40}: mean
//! `(145 + 6T) / 6`, sorted {10, 15, 20, 20, 40, 40} + T, nearest-rank p50 (rank 3) =
//! 20 + T, p99 (rank 6) = max = 40 + T; completeness within 180 ms: T = 120 → 6/6,
//! T = 160 → {175, 180, 170, 180} of 6 = 4/6 (`T_D = D` counts), T >= 200 → 0.
//!
//! `chen:window=2,alpha=50ms`: `a_i - η s_i` = -90, -90, -85, -80, -90, -60, -80, -60
//! for s1, s2, s3, s5, s6, s7, s9, s10, so `EA_j = mean of the last two + (s_j + 1) η`:
//! j = 1..7: 210, 312.5, 517.5, 615, 725, 930, 1030 ms. With α = 50: τ = 362.5 (before
//! 420: mistake, 57.5 ms), 567.5, 665, 775 (before 820: mistake, 45 ms), 980; 2
//! mistakes, S = 102.5 ms; `T_D` = τ - send = 162.5, 167.5, 165, 175, 180, 180: mean
//! 1030/6, p50 167.5, p99 = max = 180, all within 180 ms.
//!
//! Without send times (`golden-nosend.csv`, the same receipts), `T_D = τ_j - a_j = T`.
//!
//! Tuning to 1/h allows no mistake on 0.725 s (one would be 4966/h): the least `T` with
//! no gap above it is the longest gap, 205 ms (`T_D` = delay + 205: mean 1375/6, p50 225,
//! max 245); for chen the per-gap critical α is `a_{j+1} - EA_j` = 107.5, -7.5, 25, 95,
//! 10 ms, so α = 107.5 ms (`T_D` = EA_j + 107.5 - send = 220, 225, 222.5, 232.5, 237.5,
//! 237.5: mean 1375/6, p50 225, max 237.5).
//!
//! # `golden-p99.csv` (η = 100 ms, warm-up 1)
//!
//! 102 heartbeats, `send = (seq - 1)·100 ms`, delay 10 ms except seq 51 (60 ms) and
//! seq 71 (30 ms). Evaluated: 101 receipts, `L = a_101 - a_1 = 10110 - 110 = 10 s`.
//! `fixed:timeout=120ms`: gaps are 100 ms but 150 (into seq 51), 50, 120 (into seq 71,
//! exactly at the deadline), 80 → 1 mistake of 30 ms. `T_D` = delay + 120: 99 × 130,
//! 150, 180: mean 13200/101, p50 130, p99 (rank 100 of 101) 150, max 180; within
//! D = 150 ms: 100/101.

use assert_cmd::Command;
use serde_json::Value;

/// Columns of the results schema that these goldens do not cover yet (appended after
/// `detection_origin`); every other column of every output is asserted.
const NOT_COVERED: &[&str] = &[];

/// The exact (Garwood) 95 % interval of a Poisson mean for `k` observed events, as
/// printed in the standard tables (six significant digits): `[χ²(0.025; 2k)/2,
/// χ²(0.975; 2k+2)/2]`. Divided by the evaluated span in hours it is the interval of the
/// mistake rate (evaluation.md §6).
const GARWOOD: [(f64, f64); 6] = [
    (0.0, 3.68888),
    (0.0253178, 5.57164),
    (0.242209, 7.22469),
    (0.618672, 8.76727),
    (1.08992, 10.2416),
    (1.62348, 11.6683),
];

/// `row` with its interval columns worked out from its `mistakes` and `evaluated_s`
/// (relative 1e-5: the table's six digits).
fn with_interval(row: &Row) -> Vec<(&'static str, V)> {
    let get = |c: &str| row.iter().find(|(n, _)| *n == c).map(|(_, v)| *v);
    let (Some(I(k)), Some(F(l))) = (get("mistakes"), get("evaluated_s")) else {
        panic!("a golden row without mistakes or evaluated_s: {row:?}")
    };
    let (lo, hi) = GARWOOD[k as usize];
    let mut out = row.clone();
    out.push(("mistake_rate_low_per_h", T(lo * 3600.0 / l)));
    out.push(("mistake_rate_high_per_h", T(hi * 3600.0 / l)));
    out
}

/// The expected value of one results column.
#[derive(Clone, Copy, Debug)]
enum V {
    /// Text, exactly.
    S(&'static str),
    /// An integer, exactly.
    I(u64),
    /// A number: the hand value is an exact rational; the program's `f64` may differ
    /// from its nearest `f64` in the last bits only (relative 1e-14, about 45 ulp; a
    /// wrong formula moves it by far more).
    F(f64),
    /// Empty in CSV, `null` in JSON (no mistakes: no mean duration or recurrence).
    Empty,
    /// A number from a printed table of six significant digits (relative 1e-5).
    T(f64),
}
use V::{Empty, F, I, S, T};

type Row = Vec<(&'static str, V)>;

fn close(got: f64, want: f64) -> bool {
    got == want || (got - want).abs() <= 1e-14 * want.abs()
}

fn check_value(ctx: &str, col: &str, got_text: Option<&str>, got_json: Option<&Value>, want: V) {
    let bad = |g: &dyn std::fmt::Debug| panic!("{ctx}: column {col} is {g:?}, expected {want:?}");
    match (want, got_text, got_json) {
        (S(w), Some(g), _) if g == w => {}
        (S(w), _, Some(Value::String(g))) if g == w => {}
        (I(w), Some(g), _) if g.parse::<u64>() == Ok(w) => {}
        (I(w), _, Some(g)) if g.as_u64() == Some(w) => {}
        (F(w), Some(g), _) if g.parse::<f64>().is_ok_and(|g| close(g, w)) => {}
        (F(w), _, Some(g)) if g.as_f64().is_some_and(|g| close(g, w)) => {}
        (Empty, Some(""), _) | (Empty, _, Some(Value::Null)) => {}
        (T(w), Some(g), _)
            if g.parse::<f64>()
                .is_ok_and(|g| (g - w).abs() <= 1e-5 * w.abs().max(1e-9)) => {}
        (T(w), _, Some(g)) if g.as_f64().is_some_and(|g| (g - w).abs() <= 1e-5 * w.abs().max(1e-9)) => {}
        (_, Some(g), _) => bad(&g),
        (_, _, g) => bad(&g),
    }
}

/// Every column of `header` is in `want` (or in [`NOT_COVERED`]) and every column of
/// `want` is in `header`.
fn check_columns<'a>(ctx: &str, header: impl Iterator<Item = &'a str> + Clone, want: &Row) {
    for col in header.clone() {
        assert!(
            NOT_COVERED.contains(&col) || want.iter().any(|(c, _)| *c == col),
            "{ctx}: output column {col} has no expected value"
        );
    }
    for (col, _) in want {
        assert!(
            header.clone().any(|c| c == *col),
            "{ctx}: column {col} missing from the output"
        );
    }
}

fn check_csv(ctx: &str, text: &str, want: &[Row]) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), want.len(), "{ctx}: row count\n{text}");
    for (i, (row, w)) in rows.iter().zip(want).enumerate() {
        let ctx = format!("{ctx} row {}", i + 1);
        let w = &with_interval(w);
        check_columns(&ctx, header.iter(), w);
        for (col, v) in w {
            let at = header.iter().position(|c| c == *col).unwrap();
            check_value(&ctx, col, row.get(at), None, *v);
        }
    }
}

fn check_json(ctx: &str, text: &str, want: &[Row]) {
    let rows: Vec<serde_json::Map<String, Value>> = serde_json::from_str(text).unwrap();
    assert_eq!(rows.len(), want.len(), "{ctx}: row count\n{text}");
    for (i, (row, w)) in rows.iter().zip(want).enumerate() {
        let ctx = format!("{ctx} row {}", i + 1);
        let w = &with_interval(w);
        check_columns(&ctx, row.keys().map(String::as_str), w);
        for (col, v) in w {
            check_value(&ctx, col, None, row.get(*col), *v);
        }
    }
}

fn fdbench(args: &[&str]) -> String {
    let out = Command::cargo_bin("fdbench")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "fdbench {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const GOLDEN: &str = "tests/data/golden.csv";
const NOSEND: &str = "tests/data/golden-nosend.csv";
const P99: &str = "tests/data/golden-p99.csv";
const EVAL: [&str; 4] = ["--warmup", "2", "--deadline", "180ms"];

/// The columns every row of `golden.csv` shares, before the detector's own.
fn golden_common(detector: &'static str, params: &'static str, knob: &'static str, value: f64) -> Row {
    vec![
        ("detector", S(detector)),
        ("params", S(params)),
        ("knob", S(knob)),
        ("value", F(value)),
        ("heartbeats", I(6)),
        ("evaluated_s", F(0.725)),
        ("deadline_ms", F(180.0)),
    ]
}

/// A row of `golden.csv` with `mistakes` mistakes lasting `s_ms` in all.
fn accuracy(mut row: Row, mistakes: u64, s_ms: f64) -> Row {
    let k = mistakes as f64;
    row.push(("mistakes", I(mistakes)));
    row.push(("mistake_rate_per_h", F(k / 0.725 * 3600.0)));
    if mistakes == 0 {
        row.push(("mistake_duration_mean_ms", Empty));
        row.push(("mistake_recurrence_mean_s", Empty));
    } else {
        row.push(("mistake_duration_mean_ms", F(s_ms / k)));
        row.push(("mistake_recurrence_mean_s", F(0.725 / k)));
    }
    row.push(("query_accuracy", F(1.0 - s_ms / 725.0)));
    row
}

fn detection(mut row: Row, mean: f64, p50: f64, p99: f64, max: f64, completeness: f64, origin: &'static str) -> Row {
    row.extend([
        ("detection_mean_ms", F(mean)),
        ("detection_p50_ms", F(p50)),
        ("detection_p99_ms", F(p99)),
        ("detection_max_ms", F(max)),
        ("completeness", F(completeness)),
        ("detection_origin", S(origin)),
    ]);
    row
}

/// `fixed:timeout=T` on `golden.csv` (send times).
fn fixed_row(t: f64, mistakes: u64, s_ms: f64, completeness: f64) -> Row {
    let row = accuracy(golden_common("fixed", "", "timeout", t), mistakes, s_ms);
    detection(
        row,
        (145.0 + 6.0 * t) / 6.0,
        20.0 + t,
        40.0 + t,
        40.0 + t,
        completeness,
        "send",
    )
}

fn chen_row() -> Row {
    let row = accuracy(golden_common("chen", "window=2", "alpha", 50.0), 2, 102.5);
    detection(row, 1030.0 / 6.0, 167.5, 180.0, 180.0, 1.0, "send")
}

fn fixed_rows() -> Vec<Row> {
    vec![
        fixed_row(120.0, 3, 155.0, 1.0),
        fixed_row(160.0, 2, 65.0, 4.0 / 6.0),
        fixed_row(200.0, 1, 5.0, 0.0),
        fixed_row(240.0, 0, 0.0, 0.0),
    ]
}

const SWEEP_SPECS: [&str; 4] = [
    "-d",
    "fixed:timeout=120ms..240ms:40ms",
    "-d",
    "chen:window=2,alpha=50ms",
];

#[test]
fn sweep_csv_and_json_give_the_hand_computed_numbers() {
    let mut want = fixed_rows();
    want.push(chen_row());
    let args = |format: &'static str| [&["sweep", GOLDEN, "-q", "--format", format][..], &EVAL, &SWEEP_SPECS].concat();
    check_csv("sweep csv", &fdbench(&args("csv")), &want);
    check_json("sweep json", &fdbench(&args("json")), &want);
}

#[test]
fn a_sweep_of_two_traces_leads_with_the_trace_and_measures_from_the_receipt_without_send_times() {
    let text = fdbench(&[&["sweep", GOLDEN, NOSEND, "-q", "-d", "fixed:timeout=120ms"][..], &EVAL].concat());
    let mut with_send = vec![("trace", S("golden.csv"))];
    with_send.extend(fixed_row(120.0, 3, 155.0, 1.0));
    let mut without = vec![("trace", S("golden-nosend.csv"))];
    let row = accuracy(golden_common("fixed", "", "timeout", 120.0), 3, 155.0);
    without.extend(detection(row, 120.0, 120.0, 120.0, 120.0, 1.0, "receipt"));
    check_csv("two traces", &text, &[with_send, without]);
    assert!(text.starts_with("trace,detector,params,"), "{text}");
}

#[test]
fn p99_is_the_nearest_rank_between_the_median_and_the_maximum() {
    let text = fdbench(&[
        "sweep",
        P99,
        "-q",
        "--warmup",
        "1",
        "--deadline",
        "150ms",
        "-d",
        "fixed:timeout=120ms",
    ]);
    let row = vec![
        ("detector", S("fixed")),
        ("params", S("")),
        ("knob", S("timeout")),
        ("value", F(120.0)),
        ("heartbeats", I(101)),
        ("evaluated_s", F(10.0)),
        ("mistakes", I(1)),
        ("mistake_rate_per_h", F(360.0)),
        ("mistake_duration_mean_ms", F(30.0)),
        ("mistake_recurrence_mean_s", F(10.0)),
        ("query_accuracy", F(0.997)),
        ("deadline_ms", F(150.0)),
    ];
    let row = detection(row, 13200.0 / 101.0, 130.0, 150.0, 180.0, 100.0 / 101.0, "send");
    check_csv("p99", &text, &[row]);
}

#[test]
fn replay_csv_and_table_give_the_hand_computed_numbers() {
    let specs = ["-d", "fixed:timeout=120ms", "-d", "chen:window=2,alpha=50ms"];
    let csv = fdbench(&[&["replay", GOLDEN, "--format", "csv"][..], &EVAL, &specs].concat());
    check_csv("replay csv", &csv, &[fixed_row(120.0, 3, 155.0, 1.0), chen_row()]);
    // The table rounds: per_h to 3 decimals, T_M to 0.1 ms, P_A to 6 decimals, T_D to
    // 0.1 ms, completeness to 4 decimals (14896.5517, 51.667, 1 - 155/725 = 0.7862069,
    // 865/6 = 144.167; 9931.034, 51.25, 0.8586207, 171.667); the 95 % interval is the
    // Garwood table's [0.618672, 8.76727] (3 mistakes) and [0.242209, 7.22469] (2) times
    // 3600 / 0.725 s = 4965.517 per hour.
    let table = fdbench(&[&["replay", GOLDEN][..], &EVAL, &specs].concat());
    assert_eq!(
        table,
        "\
detector  params    knob            mistakes  per_h      per_h_95%              T_M_ms  P_A       TD_mean_ms  TD_p50_ms  TD_p99_ms  TD_max_ms  complete
fixed     -         timeout=120 ms  3         14896.552  [3072.027, 43534.046]  51.7    0.786207  144.2       140.0      160.0      160.0      1.0000
chen      window=2  alpha=50 ms     2         9931.034   [1202.694, 35874.311]  51.2    0.858621  171.7       167.5      180.0      180.0      1.0000

6 heartbeats evaluated over 0.7 s; per_h_95% is the exact (Garwood) 95 % interval of the mistake rate; completeness within D = 180 ms; detection time measured from the send of the last heartbeat
"
    );
}

#[test]
fn tune_finds_the_longest_gap_and_the_largest_critical_alpha() {
    let specs = ["--max-mistakes", "1/h", "-d", "fixed", "-d", "chen:window=2"];
    let fixed = accuracy(golden_common("fixed", "", "timeout", 205.0), 0, 0.0);
    let fixed = detection(fixed, 1375.0 / 6.0, 225.0, 245.0, 245.0, 0.0, "send");
    let chen = accuracy(golden_common("chen", "window=2", "alpha", 107.5), 0, 0.0);
    let chen = detection(chen, 1375.0 / 6.0, 225.0, 237.5, 237.5, 0.0, "send");
    let csv = fdbench(&[&["tune", GOLDEN, "--format", "csv"][..], &EVAL, &specs].concat());
    check_csv("tune csv", &csv, &[fixed, chen]);
    // With no mistake the interval is [0, 3.68888] × 4965.517 per hour = [0, 18317.19],
    // and 1/h × 0.725 s allows 0.0002 mistakes: the resolution warning (evaluation.md §7).
    let table = fdbench(&[&["tune", GOLDEN][..], &EVAL, &specs].concat());
    assert_eq!(
        table,
        "\
Most aggressive setting with at most 1.0000 mistakes per hour and query accuracy at least 0.999 (the exact critical knob value, rounded up to 1 µs for durations and to 4 significant digits otherwise):

detector  params    knob            mistakes  per_h  per_h_95%           T_M_ms  P_A       TD_mean_ms  TD_p50_ms  TD_p99_ms  TD_max_ms  complete
fixed     -         timeout=205 ms  0         0.000  [0.000, 18317.195]  -       1.000000  229.2       225.0      245.0      245.0      0.0000
chen      window=2  alpha=107.5 ms  0         0.000  [0.000, 18317.195]  -       1.000000  229.2       225.0      237.5      237.5      0.0000

6 heartbeats evaluated over 0.7 s; per_h_95% is the exact (Garwood) 95 % interval of the mistake rate; completeness within D = 180 ms; detection time measured from the send of the last heartbeat

warning: the evaluated span (0.7 s) allows 0.000 mistakes at the target, fewer than 3: too short to tell the target from zero; with 0 mistakes the rate is only known to be at most 18317.1945 per hour (95 % upper bound); use a longer trace
  fixed: 0 mistakes, at most 18317.1945 per hour
  chen: 0 mistakes, at most 18317.1945 per hour
"
    );
}
