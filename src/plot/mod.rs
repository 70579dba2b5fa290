//! Figures: the trade-off plots of a results table and the pictures of a trace.
//!
//! Every figure is drawn with plotters twice, as `NAME.svg` and `NAME.png`
//! ([`WIDTH`]×[`HEIGHT`] pixels), each written atomically. Text uses the DejaVu Sans
//! font bundled in the binary (`assets/`), so PNGs render on machines without system
//! fonts; SVGs name the `sans-serif` family.
//!
//! From a results table ([`results_plots`]):
//!
//! - `fig13`: Figure 1.3 of "Distributed Systems for Practitioners" for one detector
//!   family: detection time (mean, and the p50–p99 band) and mistakes per hour (log
//!   scale, with its 95 % interval as a band) against the knob, with completeness
//!   within `D` in a panel below and the book's two regimes labelled.
//! - `qos`: mean detection time against mistake rate, one line per (detector, params)
//!   group with the 95 % interval of each rate as a band; single-point detectors as
//!   markers with error bars, production presets labelled.
//! - `completeness-accuracy`: completeness within `D` against mistakes per hour.
//!
//! The interval is the exact Poisson one of the results' `mistake_rate_low_per_h` and
//! `mistake_rate_high_per_h` columns ([evaluation.md](crate::docs::evaluation) §6); where
//! no mistake was seen only its upper end is drawn, as a thin line. Settings whose query
//! accuracy is under the accuracy floor (§7, [`PlotOptions::min_accuracy`]) are never
//! recommended: their markers are hollow, and `fig13` shades their knob range grey.
//!
//! From a two-parameter tuning ([`frontier_plot`]):
//!
//! - `frontier-DETECTOR-PARAM`: for each value of the second parameter, the tuned knob's
//!   mean and p99 detection time, and the tuned knob value below; settings that are not
//!   feasible hollow and the fastest feasible pair marked.
//!
//! From a trace ([`trace_plots`]):
//!
//! - `interarrival`: histogram of inter-arrival times of accepted receipts, with the
//!   p50, p99, p99.9 and max marked.
//! - `timeline`: the stretch of the trace around its largest gap, with each detector's
//!   suspicion level, threshold and suspected intervals: the literal Figure 1.3.
//!
//! Log axes label powers of ten (`0.01`, `0.1`, `1`, `10`); a zero mistake rate cannot
//! sit on a log axis, so it is drawn one decade below the smallest non-zero value, at
//! a tick labelled `0`, and every figure that does so says it in its legend.

mod axis;
mod completeness;
mod fig13;
mod frontier;
mod interarrival;
mod qos;
pub(crate) mod style;
mod timeline;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::detector::Config;
use crate::results::Row;
use crate::trace::Trace;

pub use axis::decade_label;

/// Width of every figure, pixels.
pub const WIDTH: u32 = 1200;
/// Height of every figure, pixels.
pub const HEIGHT: u32 = 800;

/// The bundled font (DejaVu Sans; licence in `assets/DejaVuSans-LICENSE.txt`).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Why figures could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The results table has no rows.
    #[error("the results have no rows; run `fdbench sweep` to produce some")]
    NoRows,
    /// Results from several traces, and none chosen.
    #[error("the results cover {} traces ({}); choose one (CLI: --trace-name NAME)", .0.len(), .0.join(", "))]
    SeveralTraces(Vec<String>),
    /// The chosen trace has no rows.
    #[error("no results for trace '{name}'; the traces are: {}", .available.join(", "))]
    UnknownTrace {
        /// The trace asked for.
        name: String,
        /// The traces present.
        available: Vec<String>,
    },
    /// The chosen family has no rows.
    #[error("no results for detector family '{name}'; the results have: {}", .available.join(", "))]
    UnknownFamily {
        /// The family asked for.
        name: String,
        /// The detectors present.
        available: Vec<String>,
    },
    /// The chosen family has no swept knob.
    #[error(
        "detector family '{0}' has no swept knob (one row per configuration); fig13 needs a sweep, e.g. of `fixed`"
    )]
    NotSwept(String),
    /// No family in the results has a swept knob.
    #[error("no detector in the results has a swept knob; fig13 needs a sweep (e.g. `fdbench sweep --detector fixed`)")]
    NothingSwept,
    /// No detector to draw in the timeline.
    #[error("no detector to draw in the timeline; give at least one")]
    NoDetector,
    /// The mistakes to mark cannot be listed (a trace too short for the warm-up).
    #[error("marking the mistakes of {detector}: {source}")]
    Mistakes {
        /// The detector.
        detector: String,
        /// The cause.
        source: crate::replay::ReplayError,
    },
    /// A file could not be written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// plotters failed to draw or encode a figure.
    #[error("drawing {figure}: {message}")]
    Draw {
        /// The figure's name.
        figure: &'static str,
        /// plotters' message.
        message: String,
    },
}

/// Options of [`results_plots`].
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// The detector family of `fig13`; `None` = `fixed` if the results have it, else the
    /// first detector with a swept knob. When the family has several parameter sets,
    /// the one with the most knob values is drawn.
    pub family: Option<String>,
    /// Which trace to plot when the results cover several (their `trace` column).
    pub trace: Option<String>,
    /// A name for the data shown in subtitles, e.g. the results file's name.
    pub source: Option<String>,
    /// The accuracy floor ([evaluation.md](crate::docs::evaluation) §7): settings whose query accuracy is below it
    /// are drawn hollow and named in the legend as never recommended. Default
    /// [`crate::tune::DEFAULT_MIN_ACCURACY`].
    pub min_accuracy: f64,
    /// Draw the 95 % confidence interval of each mistake rate (the `mistake_rate_low_per_h`
    /// and `mistake_rate_high_per_h` columns): a shaded band along swept lines, an error
    /// bar at single points. Default on.
    pub intervals: bool,
}

impl Default for PlotOptions {
    fn default() -> PlotOptions {
        PlotOptions {
            family: None,
            trace: None,
            source: None,
            min_accuracy: crate::tune::DEFAULT_MIN_ACCURACY,
            intervals: true,
        }
    }
}

/// Options of [`trace_plots`].
#[derive(Clone, Debug, Default)]
pub struct TracePlotOptions {
    /// Detectors of the timeline with their knob values (internal units: nanoseconds
    /// for durations). Empty = two fixed timeouts chosen from the trace: one shorter
    /// than its largest gap (it suspects there) and one longer (it never suspects).
    pub detectors: Vec<(Config, f64)>,
    /// A name for the trace shown in subtitles, e.g. its file name.
    pub source: Option<String>,
    /// Mark on the timeline each mistake that `fdbench explain` lists for each detector,
    /// with this warm-up, and list them in `timeline-mistakes.csv` ([`MISTAKES_FILE`]).
    pub mark_mistakes: Option<usize>,
}

/// The list of the mistakes marked on the timeline: one row per mistake of each
/// detector, numbered as `fdbench explain` numbers them, with its suspected interval
/// and whether the figure's stretch shows it.
pub const MISTAKES_FILE: &str = "timeline-mistakes.csv";

/// Draws `fig13`, `qos` and `completeness-accuracy` from results rows into `dir`
/// (created if missing) and returns the files written, SVG then PNG for each figure.
///
/// Errors: no rows, several traces without [`PlotOptions::trace`], an unknown or
/// unswept family, or a file that cannot be written. Infinite detection times and zero
/// mistake rates are drawn or noted, never an error.
pub fn results_plots(rows: &[Row], dir: &Path, opts: &PlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let rows = select_trace(rows, opts.trace.as_deref())?;
    let meta = Meta::of(&rows, opts);
    let groups = groups(&rows);
    let family = fig13::choose(&groups, opts.family.as_deref())?;
    create_dir(dir)?;
    let mut out = render(
        &fig13::Fig13 {
            group: family,
            meta: &meta,
        },
        dir,
    )?;
    out.extend(render(
        &qos::Qos {
            groups: &groups,
            meta: &meta,
        },
        dir,
    )?);
    out.extend(render(
        &completeness::CompletenessAccuracy {
            groups: &groups,
            meta: &meta,
        },
        dir,
    )?);
    Ok(out)
}

/// Draws `interarrival` and `timeline` for a trace into `dir` (created if missing) and
/// returns the files written, SVG then PNG for each figure.
pub fn trace_plots(trace: &Trace, dir: &Path, opts: &TracePlotOptions) -> Result<Vec<PathBuf>, PlotError> {
    let receipts = trace.accepted();
    let name = opts.source.clone().unwrap_or_else(|| "trace".to_string());
    let detectors = if opts.detectors.is_empty() {
        timeline::default_detectors(&receipts)
    } else {
        opts.detectors.clone()
    };
    if detectors.is_empty() {
        return Err(PlotError::NoDetector);
    }
    let mistakes = match opts.mark_mistakes {
        Some(warmup) => Some(
            detectors
                .iter()
                .map(|(c, k)| {
                    crate::explain::mistakes(&receipts, c.detector(receipts.interval, *k).as_mut(), warmup).map_err(
                        |source| PlotError::Mistakes {
                            detector: c.label(*k),
                            source,
                        },
                    )
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    create_dir(dir)?;
    let mut out = render(
        &interarrival::Interarrival {
            receipts: &receipts,
            name: &name,
        },
        dir,
    )?;
    out.extend(render(
        &timeline::Timeline {
            receipts: &receipts,
            name: &name,
            detectors: &detectors,
            mistakes: mistakes.as_deref(),
        },
        dir,
    )?);
    if let Some(lists) = &mistakes {
        let window = timeline::window(&receipts);
        let mut csv = String::from("detector,knob,mistake,suspect_from_ns,suspect_to_ns,in_figure\n");
        for ((config, knob), list) in detectors.iter().zip(lists) {
            for (n, m) in list.iter().enumerate() {
                let inside = window.is_some_and(|(_, _, a, b)| timeline::shown(m, a, b).is_some());
                csv.push_str(&format!(
                    "{},{},{},{},{},{inside}\n",
                    config.label(*knob),
                    knob,
                    n + 1,
                    m.start.0,
                    m.end.0
                ));
            }
        }
        let path = dir.join(MISTAKES_FILE);
        crate::output::write_bytes(&path, csv.as_bytes()).map_err(|source| PlotError::Io {
            path: path.clone(),
            source,
        })?;
        out.push(path);
    }
    Ok(out)
}

/// The file stem of the frontier figure of `f`: `frontier-DETECTOR-PARAM`.
pub fn frontier_name(f: &crate::tune::Frontier) -> String {
    format!("frontier-{}-{}", f.detector, f.param)
}

/// Draws the frontier figure of a two-parameter tuning ([`crate::tune::frontiers`]) into
/// `dir` (created if missing), as [`frontier_name`]`.svg` and `.png`; returns the files
/// written. `lines` are the tuned lines the frontier indexes, `goal` the goal they were
/// tuned to (feasibility is judged by it), `source` a name for the data in the subtitle.
pub fn frontier_plot(
    lines: &[crate::tune::Line],
    f: &crate::tune::Frontier,
    goal: &crate::tune::Goal,
    dir: &Path,
    source: Option<&str>,
) -> Result<Vec<PathBuf>, PlotError> {
    let first = &lines[f.lines[0]].tuned.config;
    let unit = first
        .definition()
        .param(&f.param)
        .map_or(crate::detector::Unit::Number, |(_, p)| p.unit);
    let knob = first.knob();
    let points = f
        .lines
        .iter()
        .map(|&i| {
            let t = &lines[i].tuned;
            let m = &t.metrics;
            let row = crate::sweep::row(None, &t.config, t.value.unwrap_or(0.0), m);
            let param = t.config.get(&f.param);
            frontier::Point {
                param: if unit == crate::detector::Unit::Duration {
                    param / 1e6
                } else {
                    param
                },
                knob: row.value.unwrap_or(f64::NAN),
                mean_ms: row.detection_mean_ms,
                p99_ms: row.detection_p99_ms,
                rate_per_h: row.mistake_rate_per_h,
                accuracy: row.query_accuracy,
                feasible: t.status != crate::tune::Status::NotReached && goal.feasible(m),
            }
        })
        .collect();
    let mut subtitle = format!(
        "target: mistakes per hour at most {}, P_A at least {}",
        axis::fmt_num(goal.max_mistakes_per_h),
        goal.min_accuracy
    );
    if let Some(s) = source {
        subtitle = format!("{s} · {subtitle}");
    }
    let fig = frontier::Frontier {
        detector: f.detector,
        param: (&f.param, unit),
        knob: knob.map_or("knob", |k| k.name),
        points,
        best: f.best.and_then(|b| f.lines.iter().position(|&i| i == b)),
        subtitle,
    };
    create_dir(dir)?;
    render_as(&fig, dir, &frontier_name(f))
}

/// The production preset a results row is at, if any: its detector and parameters are a
/// preset's and its knob value the preset's setting (see [`crate::sweep::preset_of`]).
pub fn preset_name(row: &Row) -> Option<&'static str> {
    crate::sweep::preset_of(row)
}

fn create_dir(dir: &Path) -> Result<(), PlotError> {
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn select_trace<'a>(rows: &'a [Row], name: Option<&str>) -> Result<Vec<&'a Row>, PlotError> {
    if rows.is_empty() {
        return Err(PlotError::NoRows);
    }
    let mut traces: Vec<String> = Vec::new();
    for r in rows {
        let t = r.trace.clone().unwrap_or_default();
        if !traces.contains(&t) {
            traces.push(t);
        }
    }
    match name {
        None if traces.len() > 1 => Err(PlotError::SeveralTraces(traces)),
        None => Ok(rows.iter().collect()),
        Some(n) => {
            let sel: Vec<&Row> = rows.iter().filter(|r| r.trace.as_deref().unwrap_or("") == n).collect();
            if sel.is_empty() {
                Err(PlotError::UnknownTrace {
                    name: n.to_string(),
                    available: traces,
                })
            } else {
                Ok(sel)
            }
        }
    }
}

/// What the subtitles say about a results table.
pub(crate) struct Meta {
    /// e.g. `results.csv · D = 1000 ms · detection time from send`.
    subtitle: String,
    /// The completeness deadline, when all rows agree.
    deadline_ms: Option<f64>,
    /// The accuracy floor: rows below it are drawn as never recommended.
    min_accuracy: f64,
    /// Whether mistake rates are drawn with their confidence interval.
    intervals: bool,
}

impl Meta {
    fn of(rows: &[&Row], opts: &PlotOptions) -> Meta {
        let source = opts.source.as_deref();
        let d0 = rows[0].deadline_ms;
        let deadline_ms = rows.iter().all(|r| r.deadline_ms == d0).then_some(d0);
        let mut parts: Vec<String> = Vec::new();
        if let Some(s) = source {
            parts.push(s.to_string());
        }
        if let Some(t) = rows[0].trace.as_deref().filter(|t| !t.is_empty()) {
            parts.push(format!("trace {t}"));
        }
        parts.push(match deadline_ms {
            Some(d) => format!("D = {} ms", axis::fmt_num(d)),
            None => "D differs between rows".to_string(),
        });
        let o0 = &rows[0].detection_origin;
        parts.push(if rows.iter().any(|r| &r.detection_origin != o0) {
            "detection origins differ between rows".to_string()
        } else if o0 == "receipt" {
            "detection time from the last receipt (network delay not included)".to_string()
        } else {
            format!("detection time from {o0}")
        });
        Meta {
            subtitle: parts.join(" · "),
            deadline_ms,
            min_accuracy: opts.min_accuracy,
            intervals: opts.intervals,
        }
    }

    /// Whether `r` is under the accuracy floor, so never recommended.
    fn below_floor(&self, r: &Row) -> bool {
        r.query_accuracy < self.min_accuracy
    }

    /// The legend entry of the settings under the accuracy floor.
    fn floor_entry(&self) -> style::Entry {
        style::Entry {
            swatch: style::Swatch::Marker {
                color: WHITE,
                marker: style::Marker::Circle,
                outline: style::GREY,
            },
            label: format!("hollow: P_A < {}", self.min_accuracy),
            detail: Some("never recommended".to_string()),
        }
    }
}

/// The exact 95 % interval of a row's mistake rate, per hour: its two columns, or, for a
/// file written before they existed, computed from `mistakes` and `evaluated_s`.
pub(crate) fn rate_interval(r: &Row) -> Option<(f64, f64)> {
    match (r.mistake_rate_low_per_h, r.mistake_rate_high_per_h) {
        (Some(lo), Some(hi)) => Some((lo, hi)),
        _ if r.evaluated_s > 0.0 => {
            let (lo, hi) = crate::metrics::poisson_interval(r.mistakes, 0.95);
            let hours = r.evaluated_s / 3600.0;
            Some((lo / hours, hi / hours))
        }
        _ => None,
    }
    .filter(|(lo, hi)| lo.is_finite() && hi.is_finite())
}

/// The rows of one (detector, params) configuration, sorted by knob value.
pub(crate) struct Group<'a> {
    detector: &'a str,
    params: &'a str,
    knob: &'a str,
    rows: Vec<&'a Row>,
}

impl Group<'_> {
    /// A configuration measured at one point only (no sweep): drawn as a marker.
    fn is_single(&self) -> bool {
        self.rows.len() == 1
    }

    /// The preset this single point is, if any.
    fn preset(&self) -> Option<&'static str> {
        if self.is_single() {
            preset_name(self.rows[0])
        } else {
            None
        }
    }

    /// The legend's first line: detector (and knob) or preset name.
    fn title(&self) -> String {
        match (self.preset(), self.knob.is_empty(), self.is_single()) {
            (Some(p), _, _) => format!("{p} preset ({})", self.detector),
            (None, true, _) => self.detector.to_string(),
            (None, false, true) => format!(
                "{} ({} = {})",
                self.detector,
                self.knob,
                axis::fmt_num(self.rows[0].value.unwrap_or(f64::NAN))
            ),
            (None, false, false) => format!("{} (sweeping {})", self.detector, self.knob),
        }
    }
}

fn groups<'a>(rows: &[&'a Row]) -> Vec<Group<'a>> {
    let mut out: Vec<Group<'a>> = Vec::new();
    for &r in rows {
        match out
            .iter_mut()
            .find(|g| g.detector == r.detector && g.params == r.params)
        {
            Some(g) => g.rows.push(r),
            None => out.push(Group {
                detector: &r.detector,
                params: &r.params,
                knob: &r.knob,
                rows: vec![r],
            }),
        }
    }
    for g in &mut out {
        g.rows
            .sort_by(|a, b| a.value.unwrap_or(f64::NAN).total_cmp(&b.value.unwrap_or(f64::NAN)));
    }
    out
}

/// The figures fdbench draws, by file stem.
pub const FIGURES: [&str; 5] = ["fig13", "qos", "completeness-accuracy", "interarrival", "timeline"];

/// A figure folder fdbench may replace: one holding nothing but its figures
/// (`NAME.svg`, `NAME.png` for the names in [`FIGURES`], and frontier figures
/// `frontier-DETECTOR-PARAM`) and the timeline's list of mistakes ([`MISTAKES_FILE`]).
pub const FIGURE_FOLDER: crate::output::FolderKind = crate::output::FolderKind {
    what: "figure folder",
    recognise: holds_only_figures,
};

fn holds_only_figures(dir: &Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| e.to_string())?;
    for e in entries {
        let e = e.map_err(|e| e.to_string())?;
        let name = e.file_name().to_string_lossy().into_owned();
        let figure = name == MISTAKES_FILE
            || name.rsplit_once('.').is_some_and(|(stem, ext)| {
                (FIGURES.contains(&stem) || stem.starts_with("frontier-")) && (ext == "svg" || ext == "png")
            });
        if !figure || !e.file_type().is_ok_and(|t| t.is_file()) {
            return Err(format!("it holds {name}, which is not one of fdbench's figures"));
        }
    }
    Ok(())
}

/// The result of drawing on a backend.
pub(crate) type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// A figure that can be drawn on any plotters backend.
pub(crate) trait Figure {
    /// The file stem, e.g. `fig13`.
    fn name(&self) -> &'static str;
    /// Draws the figure on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

fn ensure_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok());
    if ok {
        Ok(())
    } else {
        Err(PlotError::Draw {
            figure: "font",
            message: "the bundled font could not be loaded".to_string(),
        })
    }
}

fn draw_on<DB: DrawingBackend>(fig: &impl Figure, root: DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    fig.draw(&root)?;
    root.present()?;
    Ok(())
}

/// Draws `fig` as SVG and PNG into `dir`; returns the two paths.
fn render(fig: &impl Figure, dir: &Path) -> Result<Vec<PathBuf>, PlotError> {
    render_as(fig, dir, fig.name())
}

/// Draws `fig` as `STEM.svg` and `STEM.png` into `dir`; returns the two paths.
fn render_as(fig: &impl Figure, dir: &Path, stem: &str) -> Result<Vec<PathBuf>, PlotError> {
    ensure_font()?;
    let draw_err = |e: Box<dyn std::error::Error + Send + Sync>| PlotError::Draw {
        figure: fig.name(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    draw_on(
        fig,
        SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area(),
    )
    .map_err(draw_err)?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw_on(
        fig,
        BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area(),
    )
    .map_err(draw_err)?;
    let png = encode_png(&rgb).map_err(|e| PlotError::Draw {
        figure: fig.name(),
        message: format!("png encoding: {e}"),
    })?;
    let mut out = Vec::new();
    for (ext, bytes) in [("svg", svg.as_bytes()), ("png", png.as_slice())] {
        let path = dir.join(format!("{stem}.{ext}"));
        crate::output::write_bytes(&path, bytes).map_err(|source| PlotError::Io {
            path: path.clone(),
            source,
        })?;
        out.push(path);
    }
    Ok(out)
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header()?;
        w.write_image_data(rgb)?;
        w.finish()?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_comes_from_its_columns_or_from_the_count() {
        let r = Row {
            mistakes: 0,
            evaluated_s: 3600.0,
            mistake_rate_low_per_h: Some(1.0),
            mistake_rate_high_per_h: Some(2.0),
            ..Default::default()
        };
        assert_eq!(rate_interval(&r), Some((1.0, 2.0)));
        // Without the columns: k = 0 in one hour gives [0, -ln(0.025)] = [0, 3.6889].
        let old = Row {
            mistake_rate_low_per_h: None,
            mistake_rate_high_per_h: None,
            ..r.clone()
        };
        let (lo, hi) = rate_interval(&old).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - -(0.025f64).ln()).abs() < 1e-9, "{hi}");
        // Half an hour doubles the rate's bound.
        let half = Row {
            evaluated_s: 1800.0,
            ..old.clone()
        };
        assert!((rate_interval(&half).unwrap().1 - 2.0 * hi).abs() < 1e-9);
        assert_eq!(
            rate_interval(&Row {
                evaluated_s: 0.0,
                ..old
            }),
            None
        );
    }
}
