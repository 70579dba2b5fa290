//! A new detector (suspect `margin` after the last receipt plus an EWMA of the intervals) registered,
//! swept, tuned and plotted against `chen`: `cargo run --release --example custom_detector [DIR]`.
use fdbench::detector::{Config, Definition, Estimator, EstimatorFamily, Param, Tuned, register, spec};
use fdbench::trace::{Heartbeat, synth};
use fdbench::{Nanos, plot, replay, sweep, tune};
#[derive(Clone)]
struct Ewma {
    gain: f64,
    mean: f64,
    last: Option<Nanos>,
}

impl Estimator for Ewma {
    type Knob = f64;
    fn prepare(&self, margin: f64) -> f64 {
        margin
    }
    fn observe(&mut self, hb: &Heartbeat) {
        if let Some(a) = self.last.replace(hb.recv) {
            self.mean += self.gain * ((hb.recv - a).0 as f64 - self.mean);
        }
    }
    fn level(&self, now: Nanos) -> f64 {
        self.last.map_or(0.0, |a| (now - a).0 as f64 - self.mean)
    }
    fn deadline(&self, margin: &f64) -> Option<Nanos> {
        self.last.map(|a| Nanos(a.0 + (self.mean + margin).ceil() as i64))
    }
}
fn ewma(c: &Config, eta: Nanos) -> Ewma {
    Ewma { gain: c.get("gain"), mean: eta.0 as f64, last: None }
}
static EWMA: Definition = Definition {
    name: "ewma",
    summary: "exponentially weighted mean interval plus a margin",
    source: "fdbench example",
    params: &[Param::fraction("gain", 0.125, "weight of the newest interval")],
    knob: Some(Param::duration("margin", 100e6, "added to the mean interval").swept(0.0, 1e9, 20e6)),
    knob_independent: true,
    needs_send_times: false,
    weight: 1,
    window: |_| 1,
    detector: |c, eta, knob| Box::new(Tuned::new(ewma(c, eta), knob)),
    family: |c, eta, knobs| Box::new(EstimatorFamily::new(ewma(c, eta), knobs)),
};
fn main() -> anyhow::Result<()> {
    register(&EWMA)?;
    let out = std::env::args().nth(1).unwrap_or("target/custom-detector".into());
    let receipts = synth::generate(&synth::preset("wan").expect("a built-in preset"), 1)?.accepted();
    let specs = [spec::parse("ewma:gain=0.125|0.5,margin=0..1s:20ms")?, spec::parse("chen:alpha=0..1s:20ms")?].concat();
    let opts = replay::Options { warmup: sweep::warmup_for(&specs, None)?, ..Default::default() };
    let traces = [sweep::SweepTrace { name: "wan".into(), receipts }];
    let rows = sweep::Plan::new(&traces, &specs, opts, None, false)?.run(&|| ());
    let files = plot::results_plots(&rows, out.as_ref(), &Default::default())?.len(); // fig13 of ewma, the first
    for s in [&specs[0], &specs[2]] {
        let t = tune::tune(&traces[0].receipts, &s.config, (0.0, 1e9), &tune::Goal::rate(1.0), &opts)?;
        println!("{}: {:?} ms for <= 1 mistake/h ({files} plots in {out})", s.config.name(), t.value.map(|v| v / 1e6));
    }
    Ok(())
}
