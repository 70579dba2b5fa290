//! `fdbench list`: every detector and preset with its parameters, defaults, units, knob
//! and source, and the production detectors a preset cannot express.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;

use fdbench::Nanos;
use fdbench::detector::{Param, Unit, presets, registry};
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

fn unit_name(u: Unit) -> &'static str {
    match u {
        Unit::Count => "count",
        Unit::Duration => "duration",
        Unit::Number => "number",
        Unit::Fraction => "fraction",
    }
}

fn param_line(out: &mut dyn Write, p: &Param, value: f64) -> std::io::Result<()> {
    let aliases = if p.aliases.is_empty() {
        String::new()
    } else {
        format!(" (also {})", p.aliases.join(", "))
    };
    writeln!(
        out,
        "    {:<15} {:<9} default {:<7} {}{aliases}; {}",
        p.name,
        unit_name(p.unit),
        p.format(value),
        p.doc,
        p.allowed()
    )
}

fn knob_line(out: &mut dyn Write, knob: Option<&Param>, value: Option<f64>) -> std::io::Result<()> {
    let Some(k) = knob else {
        return writeln!(out, "    knob: none");
    };
    let sweep = k.sweep.map_or(String::new(), |(s, e, st)| {
        format!(", default sweep {}..{}:{}", k.format(s), k.format(e), k.format(st))
    });
    writeln!(
        out,
        "    knob: {} ({}), default {}{sweep}; {}",
        k.name,
        unit_name(k.unit),
        k.format(value.unwrap_or(k.default)),
        k.allowed()
    )
}

fn text(out: &mut dyn Write) -> std::io::Result<()> {
    for d in registry::detectors() {
        writeln!(out, "{}", d.name)?;
        writeln!(out, "    {}", d.summary)?;
        writeln!(out, "    source: {}", d.source)?;
        knob_line(out, d.knob.as_ref(), None)?;
        for p in d.params {
            param_line(out, p, p.default)?;
        }
        writeln!(out)?;
    }
    for p in registry::presets() {
        let d = p.base;
        writeln!(out, "{}", p.name)?;
        writeln!(out, "    preset: {}", p.summary)?;
        writeln!(out, "    preset of: {}, heartbeat {}", d.name, p.heartbeat)?;
        knob_line(out, d.knob.as_ref(), p.knob())?;
        for q in d.params {
            param_line(out, q, p.value(q))?;
        }
        for a in p.aliases {
            let unit = a
                .bare
                .map_or(String::new(), |s| format!(", a bare number of {}", Nanos(s as i64)));
            writeln!(out, "    {:<15} the system's name for {}{unit}", a.name, a.param)?;
        }
        for a in p.aliases.iter().filter_map(|a| a.map) {
            writeln!(out, "    {:<15} {}", "", a.rule)?;
        }
        writeln!(out, "    heartbeat: {} ({})", p.heartbeat, p.heartbeat_setting)?;
        for v in p.defaults {
            writeln!(out, "    {} from {}", v.param, v.cite)?;
        }
        if let Some(l) = &p.lever {
            writeln!(out, "    operators change: {}, written as:", l.alias)?;
            for line in l.lines {
                writeln!(out, "        {line}")?;
            }
            for limit in l.limits {
                writeln!(out, "    limit: {}", limit.note)?;
            }
        }
        writeln!(out, "    {}", p.doc)?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "not expressible as a preset (not a timeout or accrual on one link's heartbeats):"
    )?;
    for x in presets::INEXPRESSIBLE {
        writeln!(out, "  {}", x.system)?;
        writeln!(out, "    does: {}", x.does)?;
        writeln!(out, "    would need: {}", x.needs)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "spec strings: NAME[:key=value,...], ranges START..END:STEP (END inclusive), lists A|B|C"
    )?;
    writeln!(
        out,
        "e.g. phi:window=1000,threshold=0.5..16:0.5  chen:alpha=200ms  akka-cluster:pause=1s  phi:threshold=8|10|12"
    )
}

fn param_json(p: &Param, value: f64) -> serde_json::Value {
    serde_json::json!({
        "name": p.name,
        "aliases": p.aliases,
        "kind": unit_name(p.unit),
        "default": p.format(value),
        "doc": p.doc,
        "allowed": p.allowed(),
    })
}

fn knob_json(k: Option<&Param>, value: Option<f64>) -> serde_json::Value {
    k.map_or(serde_json::Value::Null, |k| {
        let mut v = param_json(k, value.unwrap_or(k.default));
        if let Some((s, e, st)) = k.sweep {
            v["sweep"] = serde_json::json!({ "start": k.format(s), "end": k.format(e), "step": k.format(st) });
        }
        v
    })
}

fn json() -> Vec<serde_json::Value> {
    let mut all: Vec<serde_json::Value> = registry::detectors()
        .into_iter()
        .map(|d| {
            serde_json::json!({
                "kind": "detector",
                "name": d.name,
                "summary": d.summary,
                "source": d.source,
                "preset_of": null,
                "knob": knob_json(d.knob.as_ref(), None),
                "params": d.params.iter().map(|p| param_json(p, p.default)).collect::<Vec<_>>(),
            })
        })
        .collect();
    all.extend(registry::presets().into_iter().map(|p| {
        serde_json::json!({
            "kind": "preset",
            "name": p.name,
            "summary": p.summary,
            "source": p.base.source,
            "preset_of": p.base.name,
            "heartbeat": p.heartbeat.to_string(),
            "heartbeat_setting": p.heartbeat_setting,
            "lever": p.lever,
            "doc": p.doc,
            "knob": knob_json(p.base.knob.as_ref(), p.knob()),
            "params": p.base.params.iter().map(|q| param_json(q, p.value(q))).collect::<Vec<_>>(),
            "defaults": p.defaults,
            "aliases": p.aliases,
        })
    }));
    all.extend(presets::INEXPRESSIBLE.iter().map(|x| {
        serde_json::json!({
            "kind": "inexpressible",
            "name": x.system,
            "does": x.does,
            "needs": x.needs,
        })
    }));
    all
}

/// Runs `fdbench list`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let fill = |out: &mut dyn Write| match args.format {
        Format::Text => text(out),
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &json())?;
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
