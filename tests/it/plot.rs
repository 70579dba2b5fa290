//! Figures from synthetic results and traces: files exist, SVG is well-formed and
//! titled, PNG decodes at the right size and is not blank; bad input gives errors.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use fdbench::plot::{self, PlotError, PlotOptions, TracePlotOptions};
use fdbench::results::{self, Row};
use fdbench::time::Nanos;
use fdbench::trace::{Trace, TraceBuilder};

/// A row as a sweep would write it: `delay_ms` is the mean network delay.
#[allow(clippy::too_many_arguments)]
fn row(
    detector: &str,
    params: &str,
    knob: &str,
    value: Option<f64>,
    det_ms: f64,
    rate_h: f64,
    completeness: f64,
) -> Row {
    let hours = 1.0;
    let mistakes = (rate_h * hours).round() as u64;
    Row {
        trace: None,
        detector: detector.into(),
        params: params.into(),
        knob: knob.into(),
        value,
        heartbeats: 36_000,
        evaluated_s: 3600.0 * hours,
        mistakes,
        mistake_rate_per_h: mistakes as f64 / hours,
        mistake_duration_mean_ms: (mistakes > 0).then_some(40.0),
        mistake_recurrence_mean_s: (mistakes > 0).then(|| 3600.0 / mistakes as f64),
        query_accuracy: 1.0 - mistakes as f64 * 0.04 / 3600.0,
        detection_mean_ms: det_ms,
        detection_p50_ms: det_ms - 3.0,
        detection_p99_ms: det_ms + 60.0,
        detection_max_ms: det_ms + 400.0,
        completeness,
        deadline_ms: 1000.0,
        detection_origin: "send".into(),
        mistake_rate_low_per_h: Some(fdbench::metrics::poisson_interval(mistakes, 0.95).0 / hours),
        mistake_rate_high_per_h: Some(fdbench::metrics::poisson_interval(mistakes, 0.95).1 / hours),
    }
}

/// A fixed-timeout sweep over a trace with η = 100 ms and ~25 ms delay: detection ≈
/// timeout + delay, mistakes falling steeply with the timeout (zero beyond ~500 ms),
/// completeness within 1 s lost once the timeout nears 1 s. Plus an adaptive sweep, a
/// single-point detector and the two presets.
fn sweep_rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for t in (10..=2000).step_by(10) {
        let t = f64::from(t);
        let rate = if t <= 100.0 {
            36_000.0
        } else {
            36_000.0 * (-(t - 100.0) / 35.0).exp()
        };
        let completeness = ((1000.0 - t - 25.0) / 60.0 + 0.5).clamp(0.0, 1.0);
        rows.push(row("fixed", "", "timeout", Some(t), t + 25.0, rate, completeness));
    }
    for a in (0..=600).step_by(20) {
        let a = f64::from(a);
        let rate = 20_000.0 * (-a / 25.0).exp();
        rows.push(row("chen", "window=1000", "alpha", Some(a), 125.0 + a, rate, 1.0));
    }
    rows.push(row(
        "bertier",
        "window=1000;gamma=0.1;beta=1;phi=4",
        "",
        None,
        160.0,
        42.0,
        1.0,
    ));
    // The presets' rows, on a trace of their own heartbeat (1 s: 3600 in the hour).
    let at_1s = |r: Row| Row { heartbeats: 3600, ..r };
    rows.push(at_1s(row(
        "akka",
        "window=1000;min_std=100ms;pause=3s;first_estimate=1s",
        "threshold",
        Some(8.0),
        3725.0,
        0.0,
        0.0,
    )));
    rows.push(at_1s(row(
        "exp-phi",
        "window=1000;initial=2s;max_interval=2s",
        "threshold",
        Some(8.0),
        1867.0,
        0.0,
        0.0,
    )));
    rows
}

/// η = 100 ms, 25 ms delay with a deterministic wobble, one lost heartbeat, and a
/// 1.2 s stall around heartbeat 300.
fn synthetic_trace() -> Trace {
    let mut b = TraceBuilder::new(true);
    for seq in 1..=600u64 {
        let send = Nanos::from_millis(seq as i64 * 100);
        let mut delay = 25 + (seq * 7919 % 13) as i64;
        if (300..312).contains(&seq) {
            delay += (312 - seq as i64) * 100;
        }
        let recv = (seq != 450).then(|| send + Nanos::from_millis(delay));
        b.push(seq, Some(send), recv).unwrap();
    }
    b.finish(Some((
        Nanos::from_millis(100),
        fdbench::trace::IntervalSource::Metadata,
    )))
    .unwrap()
}

/// A minimal XML well-formedness check: tags balance, attributes are quoted.
fn assert_well_formed(svg: &str) {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix("!--") {
            rest = &r[r.find("-->").expect("unterminated comment") + 3..];
            continue;
        }
        let end = rest.find('>').expect("unterminated tag");
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name.trim()), "mismatched </{name}>");
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_string());
        }
    }
    assert!(stack.is_empty(), "unclosed tags: {stack:?}");
}

/// Decodes a PNG and checks its size and that it is not one flat colour.
fn assert_png(path: &Path) {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height),
        (plot::WIDTH, plot::HEIGHT),
        "{}",
        path.display()
    );
    let px = &buf[..info.buffer_size()];
    let first = &px[..3];
    let differing = px.chunks(3).filter(|p| p != &first).count();
    assert!(
        differing > 10_000,
        "{} is nearly blank ({differing} pixels differ)",
        path.display()
    );
}

fn names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn results_figures_are_written_as_svg_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let files = plot::results_plots(&sweep_rows(), dir.path(), &PlotOptions::default()).unwrap();
    assert_eq!(
        names(&files),
        [
            "fig13.svg",
            "fig13.png",
            "qos.svg",
            "qos.png",
            "completeness-accuracy.svg",
            "completeness-accuracy.png"
        ]
    );
    for (f, title) in [
        ("fig13", "fixed detector (Figure 1.3)"),
        ("qos", "Detection time against mistake rate"),
        ("completeness-accuracy", "Completeness against accuracy"),
    ] {
        let svg = std::fs::read_to_string(dir.path().join(format!("{f}.svg"))).unwrap();
        assert_well_formed(&svg);
        assert!(svg.contains(title), "{f}.svg lacks its title");
        assert_png(&dir.path().join(format!("{f}.png")));
    }
    let fig13 = std::fs::read_to_string(dir.path().join("fig13.svg")).unwrap();
    assert!(fig13.contains("short timeout: fast detection"));
    assert!(fig13.contains("slow to detect crashes"));
    assert!(fig13.contains("timeout (ms)"));
    let qos = std::fs::read_to_string(dir.path().join("qos.svg")).unwrap();
    assert!(
        qos.matches("akka-cluster").count() >= 2 && qos.matches("cassandra").count() >= 2,
        "presets are labelled"
    );
    for tick in ["\n0\n", "\n1\n", "\n10\n", "\n1000\n", "\n10000\n"] {
        assert!(qos.contains(tick), "log tick {tick:?} is a plain number");
    }
    assert!(
        !dir.path()
            .read_dir()
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().contains("tmp"))
    );
}

#[test]
fn drawing_is_deterministic() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    plot::results_plots(&sweep_rows(), a.path(), &PlotOptions::default()).unwrap();
    plot::results_plots(&sweep_rows(), b.path(), &PlotOptions::default()).unwrap();
    for f in ["fig13.svg", "qos.png"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap()
        );
    }
}

#[test]
fn another_family_and_infinite_detection_are_drawn() {
    let mut rows = sweep_rows();
    for r in rows.iter_mut().filter(|r| r.detector == "chen") {
        r.detection_mean_ms = f64::INFINITY;
        r.detection_p50_ms = f64::INFINITY;
        r.detection_p99_ms = f64::INFINITY;
    }
    let dir = tempfile::tempdir().unwrap();
    let opts = PlotOptions {
        family: Some("chen".into()),
        ..Default::default()
    };
    plot::results_plots(&rows, dir.path(), &opts).unwrap();
    let fig13 = std::fs::read_to_string(dir.path().join("fig13.svg")).unwrap();
    assert!(fig13.contains("chen detector"));
    assert!(fig13.contains("infinite"), "says that detection is infinite");
    assert!(fig13.contains("alpha (ms)"));
    let qos = std::fs::read_to_string(dir.path().join("qos.svg")).unwrap();
    assert!(qos.contains("Not shown"), "qos names the detector it cannot place");
    assert_png(&dir.path().join("fig13.png"));
}

#[test]
fn bad_results_give_errors() {
    let dir = tempfile::tempdir().unwrap();
    let opts = PlotOptions::default();
    assert!(matches!(
        plot::results_plots(&[], dir.path(), &opts),
        Err(PlotError::NoRows)
    ));

    let unknown = PlotOptions {
        family: Some("nope".into()),
        ..Default::default()
    };
    match plot::results_plots(&sweep_rows(), dir.path(), &unknown) {
        Err(e @ PlotError::UnknownFamily { .. }) => assert!(e.to_string().contains("fixed, chen, bertier")),
        other => panic!("expected UnknownFamily, got {other:?}"),
    }
    let single = PlotOptions {
        family: Some("bertier".into()),
        ..Default::default()
    };
    assert!(matches!(
        plot::results_plots(&sweep_rows(), dir.path(), &single),
        Err(PlotError::NotSwept(_))
    ));
    let singles: Vec<Row> = sweep_rows()
        .into_iter()
        .filter(|r| r.knob.is_empty() || r.value == Some(8.0))
        .collect();
    assert!(matches!(
        plot::results_plots(&singles, dir.path(), &opts),
        Err(PlotError::NothingSwept)
    ));
    let mut two = sweep_rows();
    for (i, r) in two.iter_mut().enumerate() {
        r.trace = Some(if i % 2 == 0 { "lan" } else { "wan" }.into());
    }
    assert!(matches!(
        plot::results_plots(&two, dir.path(), &opts),
        Err(PlotError::SeveralTraces(_))
    ));
    let lan = PlotOptions {
        trace: Some("lan".into()),
        ..Default::default()
    };
    plot::results_plots(&two, dir.path(), &lan).unwrap();
    assert_eq!(
        dir.path().read_dir().unwrap().count(),
        6,
        "only the successful call wrote files"
    );
}

#[test]
fn trace_figures_show_the_gap() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TracePlotOptions {
        source: Some("synthetic".into()),
        ..Default::default()
    };
    let files = plot::trace_plots(&synthetic_trace(), dir.path(), &opts).unwrap();
    assert_eq!(
        names(&files),
        ["interarrival.svg", "interarrival.png", "timeline.svg", "timeline.png"]
    );
    let hist = std::fs::read_to_string(dir.path().join("interarrival.svg")).unwrap();
    assert_well_formed(&hist);
    assert!(hist.contains("Inter-arrival times"));
    for p in ["p50 =", "p99 =", "p99.9 =", "max ="] {
        assert!(hist.contains(p), "interarrival lacks {p}");
    }
    let tl = std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap();
    assert_well_formed(&tl);
    // The default short timeout suspects during the stall, the long one never.
    assert!(
        tl.contains("timeout = 150 ms: 1 suspicion in this stretch"),
        "short timeout suspects once"
    );
    assert!(
        tl.contains("0 suspicions in this stretch"),
        "long timeout never suspects"
    );
    assert_png(&dir.path().join("interarrival.png"));
    assert_png(&dir.path().join("timeline.png"));
}

#[test]
fn chosen_detectors_drive_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let opts = TracePlotOptions {
        detectors: vec![(fdbench::detector::Config::named("fixed").unwrap(), 50e6)],
        source: None,
        mark_mistakes: None,
    };
    plot::trace_plots(&synthetic_trace(), dir.path(), &opts).unwrap();
    let tl = std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap();
    // The largest gap is the stall: seq 299 at 29925 ms to seq 312 at 31225 ms (1300 ms;
    // seq 312 overtakes 300..311, which arrive after it and are stale). The window is four
    // gaps wide, centred on it: [29925 - 1950, 29925 - 1950 + 5200) = [27975, 33175) ms.
    // It holds the gaps after seqs 279..=299 (21) and 312..=330 (19), every one longer
    // than 50 ms: 40 suspicions, each from 50 ms after its receipt to the next one:
    // (33137 - 27937) - 40 × 50 = 3200 ms in all.
    assert!(
        tl.contains("timeout = 50 ms: 40 suspicions in this stretch, 3200 ms suspected"),
        "{}",
        tl.split("timeout = 50 ms")
            .nth(1)
            .unwrap_or("no caption")
            .chars()
            .take(80)
            .collect::<String>()
    );
}

#[test]
fn cli_plots_results_and_rejects_other_files() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("results.csv");
    results::write_path(&sweep_rows(), results::Format::Csv, &csv).unwrap();
    let out = dir.path().join("figs");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["plot", csv.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .assert()
        .success();
    assert!(out.join("fig13.png").exists() && out.join("qos.svg").exists());

    let other = dir.path().join("other.csv");
    std::fs::write(&other, "name,age\nalice,3\n").unwrap();
    let out2 = dir.path().join("none");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["plot", other.to_str().unwrap(), "-o", out2.to_str().unwrap()])
        .assert()
        .failure()
        .code(1)
        .stderr(predicates::str::contains("other.csv"));
    assert!(!out2.exists(), "nothing written on failure");

    let trace = dir.path().join("trace.csv");
    fdbench::trace::csv::write_path(&synthetic_trace(), &trace).unwrap();
    Command::cargo_bin("fdbench")
        .unwrap()
        .args([
            "plot",
            "--trace",
            trace.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ])
        .assert()
        .success()
        .stderr(predicates::str::is_empty());
    assert!(out.join("timeline.svg").exists());
}

/// The `<circle>` elements of an SVG filled white: hollow markers.
fn hollow_circles(svg: &str) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<circle") && l.contains("fill=\"#FFFFFF\""))
        .count()
}

#[test]
fn intervals_and_the_accuracy_floor_are_drawn_and_named() {
    let dir = tempfile::tempdir().unwrap();
    plot::results_plots(&sweep_rows(), dir.path(), &PlotOptions::default()).unwrap();
    let qos = std::fs::read_to_string(dir.path().join("qos.svg")).unwrap();
    let fig13 = std::fs::read_to_string(dir.path().join("fig13.svg")).unwrap();
    for (name, svg) in [("qos", &qos), ("fig13", &fig13)] {
        assert!(svg.contains("95 % interval of the rate"), "{name} names the interval");
        assert!(
            svg.contains("P_A &lt; 0.999") || svg.contains("P_A < 0.999"),
            "{name} names the floor"
        );
        assert!(svg.contains("never recommended"), "{name}");
    }
    // P_A = 1 - 0.04 s × mistakes / 3600 s is under 0.999 when more than 90 mistakes:
    // fixed (drawn with circles) has 36000·exp(-(t-100)/35) of them, 119 at t = 300 ms
    // and 89 at t = 310 ms: the 30 timeouts 10..=300 ms are hollow, and the legend's
    // swatch is one more hollow circle.
    assert_eq!(hollow_circles(&qos), 30 + 1);

    let plain = tempfile::tempdir().unwrap();
    let opts = PlotOptions {
        min_accuracy: 0.0,
        intervals: false,
        ..Default::default()
    };
    plot::results_plots(&sweep_rows(), plain.path(), &opts).unwrap();
    let qos = std::fs::read_to_string(plain.path().join("qos.svg")).unwrap();
    let fig13 = std::fs::read_to_string(plain.path().join("fig13.svg")).unwrap();
    for svg in [&qos, &fig13] {
        assert!(!svg.contains("95 % interval") && !svg.contains("never recommended"));
    }
    assert_eq!(hollow_circles(&qos), 0);
}

#[test]
fn the_cli_draws_without_intervals_and_with_another_floor() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.csv");
    results::write_path(&sweep_rows(), results::Format::Csv, &results).unwrap();
    let out = dir.path().join("figs");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["plot", results.to_str().unwrap(), "-o", out.to_str().unwrap(), "-q"])
        .args(["--no-intervals", "--min-accuracy", "0.99999"])
        .assert()
        .success();
    let qos = std::fs::read_to_string(out.join("qos.svg")).unwrap();
    assert!(!qos.contains("95 % interval"));
    assert!(qos.contains("P_A &lt; 0.99999") || qos.contains("P_A < 0.99999"));
    // Under 0.99999 when more than 0.9 mistakes, i.e. at least one: 36000·exp(-(t-100)/35)
    // is 0.52 at t = 490 ms (rounded to 1) and 0.39 at 500 ms (rounded to 0), so the 49
    // fixed timeouts 10..=490 ms are hollow, plus the swatch.
    assert_eq!(hollow_circles(&qos), 49 + 1);
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["plot", results.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .args(["--min-accuracy", "2"])
        .assert()
        .failure()
        .code(2)
        .stderr(predicates::str::contains("between 0 and 1"));
}

/// Receipts every 100 ms from 0, each 10 ms late when `i % 10 == 0`.
fn late_every_tenth(n: u64) -> Trace {
    let mut b = TraceBuilder::new(false);
    for i in 0..n {
        let late = if i % 10 == 0 { 10 } else { 0 };
        b.push(i + 1, None, Some(Nanos::from_millis(i as i64 * 100 + late)))
            .unwrap();
    }
    b.finish(None).unwrap()
}

#[test]
fn the_frontier_of_a_two_parameter_tuning_is_drawn() {
    use fdbench::tune::{self, Goal, Target};
    let receipts = late_every_tenth(3000).accepted();
    let opts = fdbench::replay::Options {
        warmup: 10,
        deadline: Nanos::SECOND,
    };
    let targets: Vec<Target> = fdbench::detector::spec::parse("chen:window=1..3:1")
        .unwrap()
        .into_iter()
        .map(|spec| Target {
            spec,
            range: Some((0.0, 2e8)),
        })
        .collect();
    let goal = Goal::rate(1e9);
    let lines = tune::tune_all(&receipts, &targets, &goal, &opts).unwrap();
    let f = tune::frontiers(&lines, &goal).remove(0);
    let dir = tempfile::tempdir().unwrap();
    let files = plot::frontier_plot(&lines, &f, &goal, dir.path(), Some("late.csv")).unwrap();
    assert_eq!(names(&files), ["frontier-chen-window.svg", "frontier-chen-window.png"]);
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("Tuned chen: the fastest alpha at each window"));
    assert!(svg.contains("late.csv"));
    assert!(svg.contains("Fastest feasible: window="), "the best pair is named");
    assert!(!svg.contains("not feasible"), "every window is feasible at this target");
    assert_png(&files[1]);

    // Judged by a stricter goal than they were tuned to (no mistake at all: the tuned
    // alphas are the most aggressive under the accuracy floor, so they all make some),
    // every point is hollow and no pair is chosen.
    let strict = Goal {
        max_mistakes_per_h: 0.0,
        min_accuracy: 1.0,
    };
    assert!(lines.iter().all(|l| l.tuned.metrics.mistakes > 0));
    let f = tune::frontiers(&lines, &strict).remove(0);
    assert_eq!(f.best, None);
    plot::frontier_plot(&lines, &f, &strict, dir.path(), None).unwrap();
    let svg = std::fs::read_to_string(&files[0]).unwrap();
    assert!(svg.contains("hollow: not feasible") && svg.contains("No value of window"));
    // Mean (circles) at each of the three windows, and the legend swatch.
    assert_eq!(hollow_circles(&svg), 3 + 1);
}

#[test]
fn tune_plots_its_frontier_into_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("late.csv");
    fdbench::trace::csv::write_path(&late_every_tenth(3000), &trace).unwrap();
    let figs = dir.path().join("figs");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["tune", trace.to_str().unwrap(), "--max-mistakes", "100/h"])
        .args(["-d", "akka:pause=0s..1s:500ms", "--plot", figs.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("fastest feasible pair"))
        .stderr(predicates::str::contains("frontier-akka-pause.png"));
    for ext in ["svg", "png"] {
        assert!(figs.join(format!("frontier-akka-pause.{ext}")).is_file());
    }
    // The folder now holds fdbench figures only, so it may be written again.
    Command::cargo_bin("fdbench")
        .unwrap()
        .args(["tune", trace.to_str().unwrap(), "-d", "akka:pause=0s..1s:500ms"])
        .args(["--plot", figs.to_str().unwrap()])
        .assert()
        .success();
    // Without a second parameter there is no frontier to draw.
    let none = dir.path().join("none");
    Command::cargo_bin("fdbench")
        .unwrap()
        .args([
            "tune",
            trace.to_str().unwrap(),
            "-d",
            "fixed",
            "--plot",
            none.to_str().unwrap(),
        ])
        .assert()
        .failure()
        .code(2)
        .stderr(predicates::str::contains("two-parameter"));
    assert!(!none.exists(), "nothing written");
}

/// Receipts 10 µs apart just below 2^63 ns: the level is sampled more finely than f64
/// can tell times apart there (2048 ns), and drawing still ends.
#[test]
fn trace_figures_near_the_top_of_the_clock_are_drawn() {
    let mut b = TraceBuilder::new(false);
    for k in 1..=60u64 {
        b.push(k, None, Some(Nanos(9_223_372_036_854_000_000 + k as i64 * 10_000)))
            .unwrap();
    }
    let t = b.finish(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = plot::trace_plots(&t, dir.path(), &TracePlotOptions::default()).unwrap();
    assert_eq!(files.len(), 4);
    assert_well_formed(&std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap());
}

/// Whether the figure labels mistake `n`.
fn has_mark(svg: &str, n: usize) -> bool {
    svg.contains(&format!("\n#{n}\n</text>"))
}

/// `(mistake, suspect_from_ns, suspect_to_ns, in_figure)` rows of the marks' list.
fn marks_file(dir: &Path) -> Vec<(usize, i64, i64, bool)> {
    let text = std::fs::read_to_string(dir.join(plot::MISTAKES_FILE)).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("detector,knob,mistake,suspect_from_ns,suspect_to_ns,in_figure")
    );
    lines
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (
                c[2].parse().unwrap(),
                c[3].parse().unwrap(),
                c[4].parse().unwrap(),
                c[5] == "true",
            )
        })
        .collect()
}

#[test]
fn the_timeline_marks_the_mistakes_explain_lists() {
    // Gaps 100, 250 (seq 3 lost), 100, 180, 100 ms; timeout 150 ms after a warm-up of
    // one receipt: explain lists [250, 350] and [600, 630] ms, and the stretch (at least
    // 40 intervals) holds the whole trace.
    let trace =
        "# interval_ns=100000000\nseq,recv_ns\n1,0\n2,100000000\n4,350000000\n5,450000000\n6,630000000\n7,730000000\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.csv"), trace).unwrap();
    let run = |args: &[&str]| {
        Command::cargo_bin("fdbench")
            .unwrap()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap()
    };
    let explain = run(&[
        "explain",
        "t.csv",
        "-d",
        "fixed:timeout=150ms",
        "--warmup",
        "1",
        "--format",
        "csv",
    ]);
    assert!(explain.status.success());
    let listed: Vec<(i64, i64)> = String::from_utf8(explain.stdout)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[7].parse().unwrap(), c[8].parse().unwrap())
        })
        .collect();
    assert_eq!(listed, [(250_000_000, 350_000_000), (600_000_000, 630_000_000)]);
    let out = run(&[
        "plot",
        "--trace",
        "t.csv",
        "--detector",
        "fixed:timeout=150ms",
        "--mark-mistakes",
        "--warmup",
        "1",
        "-o",
        "figs",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let figs = dir.path().join("figs");
    let marks = marks_file(&figs);
    assert_eq!(
        marks,
        listed
            .iter()
            .enumerate()
            .map(|(i, &(a, b))| (i + 1, a, b, true))
            .collect::<Vec<_>>()
    );
    let svg = std::fs::read_to_string(figs.join("timeline.svg")).unwrap();
    assert_well_formed(&svg);
    assert!(svg.contains("mistakes #1–#2 of 2 marked"), "caption");
    assert!(has_mark(&svg, 1) && has_mark(&svg, 2) && !has_mark(&svg, 3));
    // The bars are drawn in the marks' colour, one per mistake.
    assert_eq!(svg.matches("opacity=\"1\" fill=\"#C8102E\" stroke=\"none\"").count(), 2);
    assert_png(&figs.join("timeline.png"));
    // Without --trace the flag is refused.
    let refused = run(&["plot", "r.csv", "--mark-mistakes", "-o", "x"]);
    assert_eq!(refused.status.code(), Some(2));
    // Without a detector there is nothing to mark.
    let refused = run(&["plot", "--trace", "t.csv", "--mark-mistakes", "-o", "figs"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&refused.stderr),
        "error: --mark-mistakes marks a detector's mistakes: give the detector with -d SPEC, e.g. -d fixed:timeout=150ms\n"
    );
    // The folder with its list of mistakes is fdbench's own: drawn again in place; a
    // timeline drawn without marks drops the old list, and keeps the other figures.
    let again = [
        "plot",
        "--trace",
        "t.csv",
        "-d",
        "fixed:timeout=150ms",
        "--mark-mistakes",
        "--warmup",
        "1",
        "-o",
        "figs",
    ];
    assert!(run(&again).status.success());
    assert_eq!(marks_file(&figs).len(), 2);
    let plain = run(&["plot", "--trace", "t.csv", "-o", "figs"]);
    assert!(plain.status.success(), "{}", String::from_utf8_lossy(&plain.stderr));
    assert!(!figs.join("timeline-mistakes.csv").exists());
    assert!(figs.join("timeline.svg").exists() && figs.join("interarrival.png").exists());
}

#[test]
fn marks_outside_the_stretch_are_listed_not_drawn() {
    // The synthetic trace's stretch is [27975, 33175) ms around the stall: fixed 50 ms
    // makes a mistake in almost every gap of the trace, and only those inside are drawn,
    // numbered as in the whole list.
    let dir = tempfile::tempdir().unwrap();
    let opts = TracePlotOptions {
        detectors: vec![(fdbench::detector::Config::named("fixed").unwrap(), 50e6)],
        mark_mistakes: Some(1),
        ..Default::default()
    };
    let files = plot::trace_plots(&synthetic_trace(), dir.path(), &opts).unwrap();
    assert!(names(&files).contains(&plot::MISTAKES_FILE.to_string()));
    let marks = marks_file(dir.path());
    let inside: Vec<_> = marks.iter().filter(|m| m.3).collect();
    assert!(marks.len() > inside.len() && !inside.is_empty());
    for m in &marks {
        let shown = m.1 <= 33_175_000_000 && m.2 >= 27_975_000_000;
        assert_eq!(m.3, shown, "{m:?}");
    }
    let svg = std::fs::read_to_string(dir.path().join("timeline.svg")).unwrap();
    let (first, last) = (inside[0].0, inside[inside.len() - 1].0);
    assert!(
        svg.contains(&format!("mistakes #{first}–#{last} of {} marked", marks.len())),
        "caption"
    );
    for m in &marks {
        assert_eq!(has_mark(&svg, m.0), m.3, "mark #{}", m.0);
    }
}
