//! `fdbench generate`: write a synthetic trace.

use std::path::PathBuf;

use fdbench::time::Nanos;
use fdbench::trace::synth::{self, Dist, Every, Length, Loss, Preset, SynthConfig};

const AFTER_HELP: &str = "\
Every flag overrides the preset's value; the trace's first comment line gives the
full command that regenerates it byte for byte.

DISTRIBUTIONS (--delay, --stall-duration, --shift-size/-hold, --spike-size/-hold):
    5ms                              constant
    normal:mean=20ms,std=5ms         normal, truncated at zero
    lognormal:median=20ms,sigma=0.5  mean = median * exp(sigma^2/2)
    exp:mean=5ms                     exponential
    gamma:mean=5ms,shape=2           gamma; coefficient of variation 1/sqrt(shape)
    pareto:min=1ms,alpha=2.5         Pareto, >= min; mean alpha*min/(alpha-1)
    weibull:scale=5ms,shape=1.5      Weibull
    uniform:min=100ms,max=2s         uniform
  The network delay is --base-delay plus a draw of --delay (plus any shift or spike).

LOSS (--loss):
    none | 0.01 | bernoulli:rate=0.01 independent losses
    ge:rate=0.004,burst=3            Gilbert-Elliott: stationary loss rate 0.4 %,
                                     mean burst of 3 consecutive losses
    ge:p_gb=0.0012,p_bg=0.3,loss_good=0,loss_bad=1
                                     the chain itself: stationary loss rate
                                     p_gb/(p_gb+p_bg) (when loss_good=0, loss_bad=1),
                                     mean burst 1/p_bg heartbeats

EPISODES (--stall-every, --shift-every, --spike-every): the mean running time
between the end of one episode and the start of the next (exponential), as a
duration (10m), a rate (6/h) or off; at least the interval.

EXAMPLES:
    fdbench generate --preset wan --duration 24h --seed 7 -o trace.csv
    fdbench generate --preset lan --count 1000000 -o lan.csv.gz
    fdbench generate --preset gc --stall-every 30s --stall-duration uniform:min=100ms,max=2s
    fdbench generate --delay pareto:min=1ms,alpha=2.5 --loss ge:rate=0.01,burst=5 --fifo
    fdbench generate --list-presets";

/// Arguments of `fdbench generate`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// Starting point for every setting not given as a flag.
    #[arg(long, value_enum, default_value_t = Preset::Wan)]
    preset: Preset,
    /// Print the presets, what they model and their settings, then exit.
    #[arg(long)]
    list_presets: bool,
    /// Seed of the random generator (ChaCha8); the same seed and settings give the same bytes.
    #[arg(long, default_value_t = synth::DEFAULT_SEED)]
    seed: u64,
    /// Nominal interval between heartbeats, e.g. 100ms.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    interval: Option<Nanos>,
    /// Length of the trace as time, e.g. 24h (the heartbeats due within it).
    #[arg(long, value_name = "DURATION", conflicts_with = "count", allow_hyphen_values = true)]
    duration: Option<Nanos>,
    /// Length of the trace as a number of heartbeats.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    count: Option<u64>,
    /// Standard deviation of the sender's normal jitter on each send time, e.g. 1ms.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    jitter: Option<Nanos>,
    /// Smallest network delay (propagation); --delay is added to it.
    #[arg(long, value_name = "DURATION", allow_hyphen_values = true)]
    base_delay: Option<Nanos>,
    /// Variable part of the network delay, e.g. lognormal:median=20ms,sigma=0.5 (see DISTRIBUTIONS).
    #[arg(long, value_name = "DIST")]
    delay: Option<Dist>,
    /// Loss model: none, a rate such as 0.01, or ge:rate=0.004,burst=3 (see LOSS).
    #[arg(long, value_name = "LOSS", allow_negative_numbers = true)]
    loss: Option<Loss>,
    /// Mean running time between sender stalls (GC pauses): 2m, 30/h or off.
    #[arg(long, value_name = "EVERY", allow_hyphen_values = true)]
    stall_every: Option<Every>,
    /// How long a stall lasts; heartbeats due during it go out together at its end.
    #[arg(long, value_name = "DIST")]
    stall_duration: Option<Dist>,
    /// Mean time between level shifts of the delay (route changes): 2h, 1/h or off.
    #[arg(long, value_name = "EVERY", allow_hyphen_values = true)]
    shift_every: Option<Every>,
    /// Extra delay during a level shift.
    #[arg(long, value_name = "DIST")]
    shift_size: Option<Dist>,
    /// How long a level shift holds before the delay returns to its base level.
    #[arg(long, value_name = "DIST")]
    shift_hold: Option<Dist>,
    /// Mean time between delay spikes (congestion): 10m, 6/h or off.
    #[arg(long, value_name = "EVERY", allow_hyphen_values = true)]
    spike_every: Option<Every>,
    /// Extra delay during a spike.
    #[arg(long, value_name = "DIST")]
    spike_size: Option<Dist>,
    /// How long a spike lasts.
    #[arg(long, value_name = "DIST")]
    spike_hold: Option<Dist>,
    /// Deliver in send order: a heartbeat is never received before the one sent before it.
    #[arg(long, conflicts_with = "reorder")]
    fifo: bool,
    /// Let heartbeats overtake each other (receipt = send + delay).
    #[arg(long)]
    reorder: bool,
    /// Output file (`-` = stdout); a name ending in .gz is compressed.
    #[arg(short, long, default_value = "-", value_name = "FILE")]
    output: PathBuf,
    /// Print nothing on stderr.
    #[arg(short, long)]
    quiet: bool,
}

impl Args {
    /// The preset's settings with the flags applied.
    fn config(&self) -> SynthConfig {
        let mut c = self.preset.config();
        let set = |v: &Option<Nanos>, slot: &mut Nanos| {
            if let Some(v) = v {
                *slot = *v;
            }
        };
        let set_dist = |v: &Option<Dist>, slot: &mut Dist| {
            if let Some(v) = v {
                *slot = v.clone();
            }
        };
        let set_every = |v: &Option<Every>, slot: &mut Option<Nanos>| {
            if let Some(v) = v {
                *slot = v.0;
            }
        };
        set(&self.interval, &mut c.interval);
        if let Some(d) = self.duration {
            c.length = Length::Duration(d);
        }
        if let Some(n) = self.count {
            c.length = Length::Count(n);
        }
        set(&self.jitter, &mut c.jitter);
        set(&self.base_delay, &mut c.base_delay);
        set_dist(&self.delay, &mut c.delay);
        if let Some(l) = &self.loss {
            c.loss = l.clone();
        }
        set_every(&self.stall_every, &mut c.stalls.every);
        set_dist(&self.stall_duration, &mut c.stalls.duration);
        set_every(&self.shift_every, &mut c.shifts.every);
        set_dist(&self.shift_size, &mut c.shifts.size);
        set_dist(&self.shift_hold, &mut c.shifts.hold);
        set_every(&self.spike_every, &mut c.spikes.every);
        set_dist(&self.spike_size, &mut c.spikes.size);
        set_dist(&self.spike_hold, &mut c.spikes.hold);
        if self.fifo {
            c.fifo = true;
        }
        if self.reorder {
            c.fifo = false;
        }
        c
    }
}

/// Runs `fdbench generate`.
pub fn run(args: Args) -> anyhow::Result<()> {
    if args.list_presets {
        for p in Preset::ALL {
            println!("{:<6} {}", p.name(), p.description());
            println!("       {}", p.config().command_line(synth::DEFAULT_SEED));
        }
        return Ok(());
    }
    let cfg = args.config();
    let heartbeats = synth::Heartbeats::new(&cfg, args.seed).map_err(|e| super::common::usage(e.to_string()))?;
    // The rows stream to the output: memory does not grow with --count or --duration.
    let mut invalid = None;
    let mut written = None;
    fdbench::trace::csv::write_path_with(&args.output, |w| {
        let w = heartbeats.write_csv(w)?;
        if let Err(e) = w.check() {
            invalid = Some(e);
            return Err(std::io::Error::other("not a valid trace"));
        }
        written = Some(w);
        Ok(())
    })
    .map_err(|e| match invalid.take() {
        Some(invalid) => anyhow::Error::new(invalid),
        None => anyhow::Error::new(e).context(format!("cannot write {}", args.output.display())),
    })?;
    let Some(written) = written else {
        anyhow::bail!("{}: nothing was generated", args.output.display());
    };
    if !args.quiet {
        eprintln!(
            "generated {} heartbeats ({} received) with preset {} and seed {} into {}",
            written.heartbeats,
            written.received,
            args.preset,
            args.seed,
            if args.output.as_os_str() == "-" {
                "stdout".to_string()
            } else {
                args.output.display().to_string()
            }
        );
    }
    Ok(())
}
