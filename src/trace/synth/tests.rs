//! Checks that each part of the generator does what the module docs say. Statistical
//! checks use 200k heartbeats with fixed seeds and a tolerance of five standard errors
//! computed from the sample size, so they fail only if the model is wrong.

use super::*;

const N: u64 = 200_000;

fn ms(n: i64) -> Nanos {
    Nanos::from_millis(n)
}

/// No randomness but what a test turns on: 10 ms interval, 10 ms constant delay.
fn plain(n: u64) -> SynthConfig {
    SynthConfig {
        preset: None,
        interval: ms(10),
        length: Length::Count(n),
        jitter: Nanos::ZERO,
        base_delay: Nanos::ZERO,
        delay: Dist::Const { value: ms(10) },
        loss: Loss::None,
        stalls: Stalls {
            every: None,
            duration: Dist::ZERO,
        },
        shifts: Episodes::NONE,
        spikes: Episodes::NONE,
        fifo: false,
    }
}

fn csv_bytes(t: &Trace) -> Vec<u8> {
    let mut out = Vec::new();
    crate::trace::csv::write(t, &mut out).unwrap();
    out
}

/// `recv - send` of the received heartbeats, in ns.
fn delays(t: &Trace) -> Vec<f64> {
    t.rows().filter_map(|(_, s, r)| Some((r? - s?).0 as f64)).collect()
}

fn mean_std(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

/// Lengths of the runs of consecutive lost heartbeats.
fn loss_runs(t: &Trace) -> Vec<usize> {
    let mut runs = Vec::new();
    let mut run = 0;
    for (_, _, r) in t.rows() {
        if r.is_none() {
            run += 1;
        } else if run > 0 {
            runs.push(run);
            run = 0;
        }
    }
    runs
}

#[test]
fn same_seed_same_bytes_and_another_seed_differs() {
    let mut cfg = Preset::Wan.config();
    cfg.length = Length::Count(20_000);
    let a = csv_bytes(&generate(&cfg, 7).unwrap());
    let b = csv_bytes(&generate(&cfg, 7).unwrap());
    let c = csv_bytes(&generate(&cfg, 8).unwrap());
    assert_eq!(a, b);
    assert_ne!(a, c);
    let text = String::from_utf8(a).unwrap();
    assert!(text.starts_with("# generator: fdbench generate --preset wan --seed 7 --interval 100ms --count 20000"));
}

#[test]
fn every_preset_generates_a_valid_trace() {
    for p in Preset::ALL {
        let mut cfg = p.config();
        assert_eq!(preset(p.name()), Some(cfg.clone()));
        cfg.length = Length::Count(50_000);
        let t = generate(&cfg, DEFAULT_SEED).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(t.len(), 50_000, "{p}");
        assert!(t.has_send());
        assert_eq!(t.interval(), cfg.interval);
        assert_eq!(t.interval_source(), IntervalSource::Metadata);
        assert!(t.comments()[0].contains(&format!("--preset {p} ")), "{p}");
        // Lost: n·r on average at the preset's stationary loss rate r, worked out from its
        // settings (Gilbert-Elliott: r = p_gb / (p_gb + p_bg)), with standard deviation
        // √(n r (1 - r) (1 + λ) / (1 - λ)), λ = 1 - p_gb - p_bg the correlation of the
        // loss chain (0 for Bernoulli loss); within five of them, and one for a rate so
        // small that n·r is about zero.
        let (r, lambda): (f64, f64) = match p.name() {
            "lan" => (1e-5, 0.0),
            "wan" => (0.0012 / 0.3012, 1.0 - 0.3012),
            "cloud" => (1e-4, 0.0),
            "gc" => (0.0, 0.0),
            "flaky" => (0.002 / 0.102, 1.0 - 0.102),
            other => panic!("no expected loss for {other}"),
        };
        let n = 50_000.0;
        let lost = (t.len() - t.receipts()) as f64;
        let tol = 5.0 * (n * r * (1.0 - r) * (1.0 + lambda) / (1.0 - lambda)).sqrt() + 1.0;
        assert!(
            (lost - n * r).abs() < tol,
            "{p}: {lost} lost, expected {} ± {tol}",
            n * r
        );
    }
    assert_eq!(preset("nope"), None);
    assert_eq!(SynthConfig::default(), Preset::Wan.config());
}

#[test]
fn presets_serialize_to_json_and_back() {
    for p in Preset::ALL {
        let cfg = p.config();
        let json = serde_json::to_string(&cfg).unwrap();
        let back: SynthConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg, "{json}");
    }
}

#[test]
fn duration_gives_the_heartbeats_due_within_it() {
    let mut cfg = plain(0);
    cfg.length = Length::Duration(Nanos::from_secs(60));
    let t = generate(&cfg, 1).unwrap();
    assert_eq!(t.len(), 6000);
    assert_eq!(t.send(0), Some(ms(10)));
    assert_eq!(t.send(5999), Some(ms(60_000)));
}

#[test]
fn bernoulli_loss_rate() {
    let p = 0.05;
    let mut cfg = plain(N);
    cfg.loss = Loss::Bernoulli { rate: p };
    let t = generate(&cfg, 3).unwrap();
    let lost = (t.len() - t.receipts()) as f64;
    let n = N as f64;
    let tol = 5.0 * (p * (1.0 - p) * n).sqrt();
    assert!((lost - p * n).abs() < tol, "lost {lost}, expected {} ± {tol}", p * n);
}

#[test]
fn gilbert_elliott_rate_and_burst_length() {
    let (rate, burst) = (0.02, 5.0);
    let mut cfg = plain(N);
    cfg.loss = Loss::bursty(rate, burst).unwrap();
    let Loss::GilbertElliott { p_gb, p_bg, .. } = cfg.loss else {
        unreachable!()
    };
    let t = generate(&cfg, 4).unwrap();
    let n = N as f64;
    let lost = (t.len() - t.receipts()) as f64 / n;
    // Correlated samples: the variance of the mean is inflated by (1+λ)/(1-λ), λ = 1 - p_gb - p_bg.
    let lambda = 1.0 - p_gb - p_bg;
    let tol = 5.0 * (rate * (1.0 - rate) / n * (1.0 + lambda) / (1.0 - lambda)).sqrt();
    assert!((lost - rate).abs() < tol, "loss rate {lost}, expected {rate} ± {tol}");
    // Runs of losses are geometric with mean 1/p_bg and variance (1-p_bg)/p_bg².
    let runs = loss_runs(&t);
    let mean = runs.iter().sum::<usize>() as f64 / runs.len() as f64;
    let tol = 5.0 * ((1.0 - p_bg) / (p_bg * p_bg) / runs.len() as f64).sqrt();
    assert!(
        (mean - burst).abs() < tol,
        "mean burst {mean}, expected {burst} ± {tol}"
    );
    // Bernoulli loss at the same rate has far shorter runs.
    cfg.loss = Loss::Bernoulli { rate };
    let runs = loss_runs(&generate(&cfg, 4).unwrap());
    // There runs are geometric with p = 1 - rate: mean 1 / (1 - rate) = 1.0204, variance
    // rate / (1 - rate)²; within five standard deviations of the mean of the runs.
    let mean = runs.iter().sum::<usize>() as f64 / runs.len() as f64;
    let want = 1.0 / (1.0 - rate);
    let tol = 5.0 * (rate / (1.0 - rate).powi(2) / runs.len() as f64).sqrt();
    assert!(
        (mean - want).abs() < tol,
        "mean Bernoulli run {mean}, expected {want} ± {tol}"
    );
}

#[test]
fn mean_delay_of_each_distribution() {
    let us = |n: i64| Nanos(n * 1000);
    // Each mean worked out by hand from the distribution's definition (ns).
    for (d, mean) in [
        (Dist::Const { value: ms(3) }, 3e6),
        // Truncated at zero: μ + σ φ(4) / Φ(4) = 20 ms + 5 ms · 1.338302e-4 / 0.9999683.
        (
            Dist::Normal {
                mean: ms(20),
                std: ms(5),
            },
            20e6 + 5e6 * 1.338_302_257_648_853_6e-4 / 0.999_968_328_758_166_9,
        ),
        // median · e^(σ²/2) = 20 ms · e^0.125.
        (
            Dist::LogNormal {
                median: ms(20),
                sigma: 0.5,
            },
            20e6 * 1.133_148_453_066_826_3,
        ),
        (Dist::Exp { mean: ms(5) }, 5e6),
        (
            Dist::Gamma {
                mean: us(150),
                shape: 2.0,
            },
            150e3,
        ),
        // α · min / (α - 1) = 3.5 ms / 2.5.
        (Dist::Pareto { min: ms(1), alpha: 3.5 }, 1.4e6),
        // scale · Γ(1 + 1/shape) = 5 ms · Γ(1.5) = 5 ms · √π / 2.
        (
            Dist::Weibull {
                scale: ms(5),
                shape: 2.0,
            },
            5e6 * 0.886_226_925_452_758,
        ),
        (
            Dist::Uniform {
                min: ms(100),
                max: ms(2000),
            },
            1050e6,
        ),
    ] {
        let mut cfg = plain(N);
        cfg.base_delay = ms(7);
        cfg.delay = d.clone();
        let xs = delays(&generate(&cfg, 5).unwrap());
        let (m, s) = mean_std(&xs);
        let expected = 7e6 + mean;
        // Five standard errors, plus 1 ns for the rounding of each draw to nanoseconds.
        let tol = 5.0 * s / (xs.len() as f64).sqrt() + 1.0;
        assert!((m - expected).abs() < tol, "{d}: mean {m}, expected {expected} ± {tol}");
        assert!(xs.iter().all(|&x| x >= 7e6), "{d}: a delay below the base");
    }
}

#[test]
fn jitter_has_the_configured_spread() {
    let sigma = 1e6;
    let mut cfg = plain(N);
    cfg.interval = ms(100);
    cfg.jitter = Nanos(sigma as i64);
    let t = generate(&cfg, 6).unwrap();
    let xs: Vec<f64> = t
        .rows()
        .map(|(k, s, _)| (s.unwrap().0 - k as i64 * 100_000_000) as f64)
        .collect();
    let (m, s) = mean_std(&xs);
    let n = N as f64;
    assert!(m.abs() < 5.0 * sigma / n.sqrt(), "mean jitter {m}");
    let tol = 5.0 * sigma / (2.0 * n).sqrt();
    assert!((s - sigma).abs() < tol, "jitter std {s}, expected {sigma} ± {tol}");
}

#[test]
fn wide_jitter_keeps_sends_ordered() {
    let mut cfg = plain(20_000);
    cfg.jitter = ms(50);
    let t = generate(&cfg, 6).unwrap();
    let sends: Vec<i64> = t.rows().map(|(_, s, _)| s.unwrap().0).collect();
    assert!(sends.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn stalls_hold_back_heartbeats_until_their_end() {
    // 10 ms interval, a 200 ms stall after every 1 s of running time on average.
    let (eta, every, stall) = (10e6, 1e9, 200e6);
    let mut cfg = plain(N);
    cfg.stalls = Stalls {
        every: Some(Nanos(every as i64)),
        duration: Dist::Const {
            value: Nanos(stall as i64),
        },
    };
    let t = generate(&cfg, 7).unwrap();
    let rows: Vec<(u64, i64)> = t.rows().map(|(k, s, _)| (k, s.unwrap().0)).collect();
    let mut groups = 0usize;
    let mut i = 0;
    while i < rows.len() {
        let mut j = i + 1;
        while j < rows.len() && rows[j].1 == rows[i].1 {
            j += 1;
        }
        if j - i > 1 {
            groups += 1;
            // A 200 ms stall covers exactly 20 due times at a 10 ms interval (21 if the
            // next one is due exactly at its end); all share the stall's end.
            assert!((20..=21).contains(&(j - i)), "group of {} at seq {}", j - i, rows[i].0);
            let end = rows[i].1;
            let first_due = rows[i].0 as i64 * eta as i64;
            let last_due = rows[j - 1].0 as i64 * eta as i64;
            assert!(end - first_due <= stall as i64 && last_due <= end, "seq {}", rows[i].0);
        }
        i = j;
    }
    // Stalls form a renewal process with cycle mean every + stall and variance every².
    let total = N as f64 * eta;
    let cycle = every + stall;
    let expected = total / cycle;
    let sd = (total * every * every / cycle.powi(3)).sqrt();
    assert!(
        (groups as f64 - expected).abs() < 5.0 * sd,
        "{groups} stalls, expected {expected} ± {}",
        5.0 * sd
    );
}

#[test]
fn level_shifts_raise_the_delay_while_they_hold() {
    // A 50 ms shift holding 5 s, after 10 s on average: a third of the time shifted.
    let (every, hold) = (10e9, 5e9);
    let mut cfg = plain(N);
    let base = generate(&cfg, 8).unwrap();
    cfg.shifts = Episodes {
        every: Some(Nanos(every as i64)),
        size: Dist::Const { value: ms(50) },
        hold: Dist::Const {
            value: Nanos(hold as i64),
        },
    };
    let t = generate(&cfg, 8).unwrap();
    let xs = delays(&t);
    assert!(xs.iter().all(|&x| x == 10e6 || x == 60e6));
    let shifted = xs.iter().filter(|&&x| x == 60e6).count() as f64 / xs.len() as f64;
    let total = N as f64 * 10e6;
    let cycle = every + hold;
    let expected = hold / cycle;
    // The number of episodes is a renewal count with variance total·every²/cycle³.
    let sd = (total * every * every / cycle.powi(3)).sqrt() * hold / total;
    assert!(
        (shifted - expected).abs() < 5.0 * sd,
        "shifted {shifted}, expected {expected} ± {}",
        5.0 * sd
    );
    let (m0, _) = mean_std(&delays(&base));
    let (m1, _) = mean_std(&xs);
    assert!(((m1 - m0) - 50e6 * shifted).abs() < 1.0, "mean delay {m0} -> {m1}");
}

#[test]
fn spikes_add_to_the_delay_of_the_heartbeats_they_cover() {
    let mut cfg = plain(N);
    cfg.spikes = Episodes {
        every: Some(Nanos::from_secs(30)),
        size: Dist::Const { value: ms(300) },
        hold: Dist::Const { value: ms(95) },
    };
    let xs = delays(&generate(&cfg, 9).unwrap());
    let spiked = xs.iter().filter(|&&x| x == 310e6).count();
    // Spikes are a renewal process over 2000 s with cycle mean 30 s + 95 ms and
    // variance (30 s)²: 2000 / 30.095 = 66.46 spikes, standard deviation
    // √(2000 · 30² / 30.095³) = 8.13; each covers 9.5 heartbeats on average (95 ms at
    // 10 ms, 9 or 10). Five standard deviations of 9.5 × the count (the spread of 9
    // against 10 adds at most 0.5 × 66 in quadrature, negligible).
    let (count, sd) = (2000.0 / 30.095, (2000.0 * 900.0 / 30.095f64.powi(3)).sqrt());
    let (expected, tol) = (9.5 * count, 5.0 * 9.5 * sd);
    assert!(
        (spiked as f64 - expected).abs() < tol,
        "{spiked} spiked heartbeats, expected {expected} ± {tol}"
    );
    assert!(xs.iter().all(|&x| x == 10e6 || x == 310e6));
}

#[test]
fn fifo_prevents_reordering_and_wide_delays_reorder() {
    let mut cfg = plain(20_000);
    cfg.delay = Dist::Exp { mean: ms(50) };
    let t = generate(&cfg, 10).unwrap();
    // Heartbeat i (sent at 10 i ms, delay X ~ Exp(mean μ = 50 ms)) is stale when a later
    // one i + k arrives first, 10 k ms + X_{i+k} < X. Given X = x that has probability
    // 1 - Π_{k=1}^{⌊x/10 ms⌋} exp(-(x - 10 k ms)/μ), so the share of stale heartbeats is
    // p = 1 - ∫ e^{-x/μ}/μ · exp(-Σ_k (x - 10 k ms)/μ) dx = 0.5348 (the integral
    // below, in ms, to 2000 ms where e^{-x/μ} is e^{-40}). The count over 20 000 has a
    // binomial standard deviation √(n p (1 - p)) = 70.5; neighbours share delays, so the
    // tolerance is 5 of it, doubled for that dependence.
    let (eta, mu, h) = (10.0f64, 50.0f64, 1e-3);
    let not_stale: f64 = (0..2_000_000)
        .map(|i| {
            let x = (i as f64 + 0.5) * h;
            let m = (x / eta).floor();
            let sum = m * x - eta * m * (m + 1.0) / 2.0;
            (-x / mu).exp() / mu * (-sum / mu).exp() * h
        })
        .sum();
    let n = 20_000.0;
    let p = 1.0 - not_stale;
    assert!((p - 0.5348).abs() < 1e-4, "p = {p}");
    let (expected, tol) = (n * p, 10.0 * (n * p * (1.0 - p)).sqrt());
    let stale = t.accepted().stale as f64;
    assert!(
        (stale - expected).abs() < tol,
        "{stale} stale, expected {expected} ± {tol}"
    );
    cfg.fifo = true;
    let t = generate(&cfg, 10).unwrap();
    assert_eq!(t.accepted().stale, 0);
    let recv: Vec<i64> = t.rows().filter_map(|(_, _, r)| r.map(|r| r.0)).collect();
    assert!(recv.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn turning_loss_on_keeps_the_other_draws() {
    let mut cfg = plain(20_000);
    cfg.jitter = ms(1);
    cfg.delay = Dist::Exp { mean: ms(5) };
    let a = generate(&cfg, 11).unwrap();
    cfg.loss = Loss::Bernoulli { rate: 0.1 };
    let b = generate(&cfg, 11).unwrap();
    assert_eq!(a.receipts(), 20_000);
    // Binomial loss: 2000 ± 5 √(20000 · 0.1 · 0.9) = 2000 ± 212.
    let lost = (b.len() - b.receipts()) as f64;
    assert!((lost - 2000.0).abs() < 5.0 * 1800f64.sqrt(), "{lost} lost");
    for (ra, rb) in a.rows().zip(b.rows()) {
        assert_eq!(ra.1, rb.1);
        if rb.2.is_some() {
            assert_eq!(ra.2, rb.2);
        }
    }
}

#[test]
fn bad_settings_name_their_flag() {
    let flag = |cfg: &SynthConfig| match generate(cfg, 1).unwrap_err() {
        SynthError::Invalid { flag, .. } => flag,
        e => panic!("{e}"),
    };
    let mut c = plain(100);
    c.interval = Nanos::ZERO;
    assert_eq!(flag(&c), "--interval");
    let mut c = plain(1);
    assert_eq!(flag(&c), "--count");
    c.length = Length::Duration(ms(15));
    assert_eq!(flag(&c), "--duration");
    let mut c = plain(100);
    c.loss = Loss::Bernoulli { rate: 1.5 };
    assert_eq!(flag(&c), "--loss");
    let mut c = plain(100);
    c.stalls.every = Some(ms(1));
    assert_eq!(flag(&c), "--stall-every");
    let mut c = plain(100);
    c.delay = Dist::Gamma {
        mean: ms(1),
        shape: 0.0,
    };
    assert_eq!(flag(&c), "--delay");
    let mut c = plain(100);
    c.shifts.hold = Dist::Uniform { min: ms(2), max: ms(1) };
    assert_eq!(flag(&c), "--shift-hold");
    let mut c = plain(100);
    c.loss = Loss::Bernoulli { rate: 1.0 };
    assert!(matches!(
        generate(&c, 1),
        Err(SynthError::Trace(TraceError::TooFewReceipts(0)))
    ));
}

#[test]
fn every_accepts_durations_rates_and_off() {
    assert_eq!("10m".parse::<Every>().unwrap(), Every(Some(Nanos::from_secs(600))));
    assert_eq!("6/h".parse::<Every>().unwrap(), Every(Some(Nanos::from_secs(600))));
    assert_eq!("0.5/s".parse::<Every>().unwrap(), Every(Some(Nanos::from_secs(2))));
    assert_eq!("off".parse::<Every>().unwrap(), Every(None));
    assert_eq!("0/h".parse::<Every>().unwrap(), Every(None));
    assert!("0s".parse::<Every>().is_err());
    assert!("-1/h".parse::<Every>().is_err());
    assert!("5/parsec".parse::<Every>().is_err());
    assert!("10".parse::<Every>().is_err());
    for e in [Every(None), Every(Some(ms(1500)))] {
        assert_eq!(e.to_string().parse::<Every>().unwrap(), e);
    }
}

#[test]
fn the_command_line_names_every_setting() {
    let cfg = Preset::Flaky.config();
    let line = cfg.command_line(42);
    for flag in [
        "--preset flaky",
        "--seed 42",
        "--interval 100ms",
        "--duration 1h",
        "--jitter 2ms",
        "--base-delay 10ms",
        "--delay lognormal:median=10ms,sigma=0.8",
        "--loss ge:p_gb=0.002,p_bg=0.1,loss_good=0,loss_bad=1",
        "--stall-every off",
        "--stall-duration 0s",
        "--shift-every 15m",
        "--shift-size uniform:min=20ms,max=200ms",
        "--shift-hold uniform:min=1m,max=10m",
        "--spike-every off",
        "--reorder",
    ] {
        assert!(line.contains(flag), "{flag} not in {line}");
    }
}

#[test]
fn streamed_rows_are_the_bytes_of_the_trace() {
    for p in Preset::ALL {
        let mut cfg = p.config();
        cfg.length = Length::Count(5_000);
        let mut whole = Vec::new();
        crate::trace::csv::write(&generate(&cfg, 11).unwrap(), &mut whole).unwrap();
        let mut streamed = Vec::new();
        let w = Heartbeats::new(&cfg, 11).unwrap().write_csv(&mut streamed).unwrap();
        assert_eq!(
            String::from_utf8(streamed).unwrap(),
            String::from_utf8(whole).unwrap(),
            "{p:?}"
        );
        assert_eq!(w.heartbeats, 5_000);
        let t = generate(&cfg, 11).unwrap();
        assert_eq!(w.received as usize, t.receipts());
        assert_eq!(w.check(), Ok(()));
    }
    let mut cfg = plain(10);
    cfg.loss = Loss::Bernoulli { rate: 1.0 };
    let w = Heartbeats::new(&cfg, 1).unwrap().write_csv(std::io::sink()).unwrap();
    assert_eq!(
        w,
        Written {
            heartbeats: 10,
            received: 0
        }
    );
    assert_eq!(w.check(), generate(&cfg, 1).map(|_| ()));
}
