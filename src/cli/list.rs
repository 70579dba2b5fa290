//! `fdbench list`: every detector and preset with its parameters, defaults, units, knob
//! and source.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use fdbench::detector::spec::{DETECTORS, Info, Kind, Unit};
use fdbench::output::write_atomic;

/// Output format of `fdbench list`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A human-readable listing.
    Text,
    /// A JSON array, one object per detector or preset.
    Json,
}

/// Lists the detectors and presets.
#[derive(clap::Args, Debug)]
#[command(after_help = "EXAMPLES:
    fdbench list
    fdbench list --format json -o detectors.json")]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Where to write the listing (`-` = stdout).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Count => "count",
        Kind::Duration => "duration",
        Kind::Number => "number",
    }
}

fn text(out: &mut dyn Write) -> std::io::Result<()> {
    for i in DETECTORS {
        writeln!(out, "{}", i.name)?;
        writeln!(out, "    {}", i.summary)?;
        if let Some(base) = i.preset_of {
            writeln!(out, "    preset of: {base}")?;
        }
        writeln!(out, "    source: {}", i.source)?;
        match i.knob {
            Some(k) => {
                let unit = if k.unit == Unit::Duration { "duration" } else { "number" };
                let (s, e, st) = k.sweep;
                writeln!(
                    out,
                    "    knob: {} ({unit}), default {}, default sweep {}..{}:{}; {}",
                    k.name,
                    k.format(k.default),
                    k.format(s),
                    k.format(e),
                    k.format(st),
                    i.knob_allowed
                )?;
            }
            None => writeln!(out, "    knob: none")?,
        }
        for p in i.params {
            writeln!(
                out,
                "    {:<15} {:<9} default {:<7} {}; {}",
                p.name,
                kind_name(p.kind),
                p.format(p.default),
                p.doc,
                p.allowed
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "spec strings: NAME[:key=value,...], ranges START..END:STEP (END inclusive)"
    )?;
    writeln!(
        out,
        "e.g. phi:window=1000,threshold=0.5..16:0.5  chen:alpha=200ms  akka-cluster:pause=1s"
    )
}

fn json(i: &Info) -> serde_json::Value {
    let knob = i.knob.map(|k| {
        serde_json::json!({
            "name": k.name,
            "unit": if k.unit == Unit::Duration { "duration" } else { "number" },
            "default": k.format(k.default),
            "sweep": { "start": k.format(k.sweep.0), "end": k.format(k.sweep.1), "step": k.format(k.sweep.2) },
            "allowed": i.knob_allowed,
        })
    });
    let params: Vec<serde_json::Value> = i
        .params
        .iter()
        .map(|p| {
            serde_json::json!({
                "name": p.name,
                "kind": kind_name(p.kind),
                "default": p.format(p.default),
                "doc": p.doc,
                "allowed": p.allowed,
            })
        })
        .collect();
    serde_json::json!({
        "name": i.name,
        "summary": i.summary,
        "source": i.source,
        "preset_of": i.preset_of,
        "knob": knob,
        "params": params,
    })
}

/// Runs `fdbench list`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let fill = |out: &mut dyn Write| match args.format {
        Format::Text => text(out),
        Format::Json => {
            let all: Vec<serde_json::Value> = DETECTORS.iter().map(json).collect();
            serde_json::to_writer_pretty(&mut *out, &all)?;
            writeln!(out)
        }
    };
    if args.output.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        fill(&mut lock).context("writing the listing to stdout")
    } else {
        write_atomic(&args.output, fill).with_context(|| format!("writing {}", args.output.display()))
    }
}
