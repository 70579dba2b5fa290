//! `timeline`: the stretch of a trace around its largest gap between accepted receipts.
//! Heartbeat arrivals as ticks on top; below, for each detector, its suspicion level
//! over time, its threshold, and the intervals during which it suspects, shaded.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::fig13::{GRID, GRID_LIGHT};
use super::style::{self, Entry, LEGEND_WIDTH, Swatch};
use super::{DrawResult, Figure, WIDTH};
use crate::detector::Config;
use crate::detector::Unit;
use crate::explain::Mistake;
use crate::time::Nanos;
use crate::trace::Receipts;

/// Level samples across the window.
const SAMPLES: f64 = 1500.0;

/// The colour of the mistakes' marks.
const MARK: RGBColor = RGBColor(200, 16, 46);

pub(crate) struct Timeline<'a> {
    pub receipts: &'a Receipts,
    pub name: &'a str,
    pub detectors: &'a [(Config, f64)],
    /// Each detector's mistakes as [`crate::explain`] lists them, to mark; `None` marks
    /// none.
    pub mistakes: Option<&'a [Vec<Mistake>]>,
}

/// The stretch the timeline shows: the largest gap `(j, a_{j+1} - a_j)` in the middle of
/// `[start, end]`, at least 40 nominal intervals wide; `None` with fewer than two
/// accepted receipts.
pub(crate) fn window(r: &Receipts) -> Option<(usize, Nanos, Nanos, Nanos)> {
    let (j, g) = worst_gap(r)?;
    let span = Nanos((4 * g.0).max(40 * r.interval.0).max(1));
    let first = r.recv[0];
    let last = r.recv[r.len() - 1];
    let gap_start = r.recv[j];
    let mut start = gap_start.saturating_sub(Nanos((span.0 - g.0) / 2)).max(first);
    let end = start.saturating_add(span).min(last.max(gap_start + g));
    if end.saturating_sub(start) < span {
        start = end.saturating_sub(span).max(first);
    }
    Some((j, g, start, end))
}

/// The part of a mistake inside `[start, end]`, if any.
pub(crate) fn shown(m: &Mistake, start: Nanos, end: Nanos) -> Option<(Nanos, Nanos)> {
    (m.start <= end && m.end >= start).then(|| (m.start.max(start), m.end.min(end)))
}

/// The largest gap between consecutive accepted receipts: `(j, a_{j+1} - a_j)`.
pub(crate) fn worst_gap(r: &Receipts) -> Option<(usize, Nanos)> {
    r.recv
        .windows(2)
        .enumerate()
        .map(|(j, w)| (j, w[1] - w[0]))
        .max_by_key(|&(j, g)| (g, std::cmp::Reverse(j)))
}

/// `x` rounded to two significant digits.
fn round2(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x;
    }
    let mag = 10f64.powf(x.log10().floor() - 1.0);
    (x / mag).round() * mag
}

/// Two fixed timeouts for a trace: one shorter than its largest gap (1.5 η when that
/// is shorter, else three quarters of the gap) and one a quarter longer than the gap,
/// which therefore never suspects anywhere in the trace.
pub(crate) fn default_detectors(r: &Receipts) -> Vec<(Config, f64)> {
    let eta = r.interval.0 as f64;
    let Some((_, gap)) = worst_gap(r).filter(|(_, g)| g.0 > 0) else {
        return vec![(fixed(), round2(1.5 * eta)), (fixed(), round2(3.0 * eta))];
    };
    let gap = gap.0 as f64;
    let short = if 1.5 * eta < gap {
        round2(1.5 * eta)
    } else {
        round2(0.75 * gap)
    };
    let mut long = round2(1.25 * gap);
    if long <= gap {
        long = round2(1.5 * gap);
    }
    vec![(fixed(), short), (fixed(), long)]
}

fn fixed() -> Config {
    crate::detector::fixed::DEFINITION.defaults()
}

/// One detector replayed over the window.
struct Replayed {
    /// `(t, level)` samples, level in the knob's reported unit (ms for durations).
    level: Vec<(f64, f64)>,
    /// Suspected intervals `(from, to)`.
    suspected: Vec<(f64, f64)>,
    /// The threshold in the same unit as the level.
    threshold: f64,
}

impl Figure for Timeline<'_> {
    fn name(&self) -> &'static str {
        "timeline"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.receipts;
        let eta = r.interval;
        let gap = worst_gap(r);
        let subtitle = match gap {
            Some((_, g)) => format!(
                "{} · largest gap between accepted receipts: {} ms (η = {} ms)",
                self.name,
                fmt_num(g.as_millis_f64()),
                fmt_num(eta.as_millis_f64())
            ),
            None => self.name.to_string(),
        };
        let rest = style::title(root, "Heartbeats and suspicion around the largest gap", &subtitle)?;
        let (main, side) = rest.split_horizontally(WIDTH - LEGEND_WIDTH);
        let Some((j, g, start, end)) = window(r) else {
            style::empty_message(&main, "fewer than two accepted receipts: there is no gap to show")?;
            return Ok(());
        };
        let span = Nanos((4 * g.0).max(40 * eta.0).max(1));
        let gap_start = r.recv[j];
        let (unit, unit_name) = if span.0 > 5_000_000_000 {
            (1e9, "s")
        } else {
            (1e6, "ms")
        };
        let rel = |t: Nanos| (t - gap_start).0 as f64 / unit;
        let x_axis = Axis::linear_exact(rel(start), rel(end));
        let (xlo, xhi) = (x_axis.range().start, x_axis.range().end);

        let n = self.detectors.len() as u32;
        let (_, h) = main.dim_in_pixel();
        let tick_h = 96;
        let panel_h = (h - tick_h - 60) / n.max(1);
        let (ticks, mut panels) = main.split_vertically(tick_h);

        // Heartbeat ticks.
        let unit_axis = Axis::fixed(0.0, 1.0, 1.0);
        let mut tchart = ChartBuilder::on(&ticks)
            .margin_top(6)
            .margin_right(24)
            .margin_left(16)
            .x_label_area_size(0)
            .y_label_area_size(110)
            .build_cartesian_2d(x_axis.coord(), unit_axis.coord())?;
        tchart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .y_label_formatter(&|_| String::new())
            .y_desc("arrivals")
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;
        let gx0 = rel(gap_start).max(xlo);
        let gx1 = rel(gap_start + g).min(xhi);
        tchart.draw_series(std::iter::once(Rectangle::new(
            [(gx0, 0.0), (gx1, 1.0)],
            style::color(3).mix(0.18).filled(),
        )))?;
        let inside: Vec<f64> = r
            .recv
            .iter()
            .filter(|&&a| a >= start && a <= end)
            .map(|&a| rel(a))
            .collect();
        tchart.draw_series(
            inside
                .iter()
                .map(|&x| PathElement::new(vec![(x, 0.2), (x, 0.8)], style::INK.stroke_width(2))),
        )?;

        let mut entries = vec![
            Entry::new(
                Swatch::Line {
                    color: style::INK,
                    dashed: false,
                    marker: None,
                },
                "heartbeat arrival (tick)",
            ),
            Entry::new(Swatch::Band(*style::color(3)), "largest gap"),
        ];
        for (i, (config, knob)) in self.detectors.iter().enumerate() {
            let rp = replay(r, config, *knob, start, end, &rel);
            let last_panel = i + 1 == self.detectors.len();
            let (panel, below) = if last_panel {
                (panels.clone(), panels.clone())
            } else {
                panels.split_vertically(panel_h)
            };
            panels = below;
            let color = style::color(i);
            let knob_def = config.knob();
            let knob_text = match knob_def {
                Some(k) => {
                    let unit = if k.unit == Unit::Duration { " ms" } else { "" };
                    format!("{} = {}{unit}", k.name, fmt_num(k.report(*knob)))
                }
                None => String::new(),
            };
            let suspected_ns = rp.suspected.iter().fold(0.0, |acc, (a, b)| acc + (b - a) * unit);
            let k = rp.suspected.len();
            let mistakes = self.mistakes.map(|all| &all[i]);
            // Explain's numbering (from 1) of the mistakes in this stretch.
            let marks: Vec<(usize, f64, f64)> = mistakes
                .into_iter()
                .flatten()
                .enumerate()
                .filter_map(|(n, m)| shown(m, start, end).map(|(a, b)| (n + 1, rel(a), rel(b))))
                .collect();
            let marked = match (mistakes, marks.first(), marks.last()) {
                (None, ..) => String::new(),
                (Some(all), Some(f), Some(l)) if f.0 == l.0 => format!("; mistake #{} of {} marked", f.0, all.len()),
                (Some(all), Some(f), Some(l)) => format!("; mistakes #{}–#{} of {} marked", f.0, l.0, all.len()),
                (Some(all), ..) => format!("; none of its {} mistakes here", all.len()),
            };
            let caption = format!(
                "{} {knob_text}: {k} suspicion{} in this stretch, {} ms suspected{marked}",
                config.name(),
                if k == 1 { "" } else { "s" },
                fmt_num(suspected_ns / 1e6)
            );
            let finite_max = rp
                .level
                .iter()
                .map(|p| p.1)
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let ymax = finite_max.min(rp.threshold * 20.0).max(rp.threshold * 1.2).max(1e-9);
            let y_axis = Axis::linear(0.0, ymax * 1.05);
            let ytop = y_axis.range().end;
            let y_desc = match (config.name(), knob_def.map(|k| k.unit)) {
                ("fixed", _) => "since last arrival (ms)".to_string(),
                (_, Some(Unit::Duration)) => "level (ms)".to_string(),
                _ => "suspicion level".to_string(),
            };
            let mut chart = ChartBuilder::on(&panel)
                .caption(caption, style::plain(style::LABEL))
                .margin_right(24)
                .margin_left(16)
                .margin_top(4)
                .x_label_area_size(if last_panel { 56 } else { 24 })
                .y_label_area_size(110)
                .build_cartesian_2d(x_axis.coord(), y_axis.coord())?;
            let x_desc = format!("time since the last arrival before the largest gap ({unit_name})");
            let xfmt = |v: &f64| x_axis.label(*v);
            let yfmt = |v: &f64| y_axis.label(*v);
            let mut mesh = chart.configure_mesh();
            mesh.bold_line_style(GRID)
                .light_line_style(GRID_LIGHT)
                .x_label_formatter(&xfmt)
                .y_label_formatter(&yfmt)
                .y_desc(y_desc)
                .label_style(style::plain(style::LABEL))
                .axis_desc_style(style::plain(style::DESC));
            if last_panel {
                mesh.x_desc(x_desc);
            }
            mesh.draw()?;
            chart.draw_series(
                rp.suspected
                    .iter()
                    .map(|&(a, b)| Rectangle::new([(a, 0.0), (b, ytop)], style::color(1).mix(0.2).filled())),
            )?;
            chart.draw_series(DashedLineSeries::new(
                [(xlo, rp.threshold), (xhi, rp.threshold)],
                10,
                6,
                style::GREY.stroke_width(2),
            ))?;
            chart.draw_series(LineSeries::new(
                rp.level
                    .iter()
                    .map(|&(t, l)| (t, if l.is_finite() { l.min(ytop) } else { ytop })),
                color.stroke_width(2),
            ))?;
            // Each mistake: a bar along the top from its start to its end, a line down at
            // its start, and its number in explain's list.
            let mark = MARK.filled();
            chart.draw_series(
                marks
                    .iter()
                    .map(|&(_, a, b)| Rectangle::new([(a, 0.93 * ytop), (b, ytop)], mark)),
            )?;
            chart.draw_series(
                marks
                    .iter()
                    .map(|&(_, a, _)| PathElement::new(vec![(a, 0.0), (a, ytop)], MARK.stroke_width(1))),
            )?;
            chart.draw_series(marks.iter().map(|&(n, a, _)| {
                Text::new(
                    format!("#{n}"),
                    (a, 0.9 * ytop),
                    style::text(style::SMALL, &MARK, HPos::Left, VPos::Top),
                )
            }))?;
            entries.push(Entry {
                swatch: Swatch::Line {
                    color: *color,
                    dashed: false,
                    marker: None,
                },
                label: format!("{} level", config.name()),
                detail: Some(knob_text),
            });
        }
        entries.push(Entry::new(
            Swatch::Line {
                color: style::GREY,
                dashed: true,
                marker: None,
            },
            "threshold",
        ));
        entries.push(Entry::new(Swatch::Band(*style::color(1)), "suspected"));
        if self.mistakes.is_some() {
            entries.push(Entry::new(Swatch::Band(MARK), "mistake #n (fdbench explain)"));
        }
        let notes = vec![
            "A detector suspects while its level is at or above its threshold; the next arrival resets it.".to_string(),
        ];
        style::legend(&side, "Legend", &entries, &notes)?;
        Ok(())
    }
}

/// Replays the detector over the whole trace and records its level and suspected
/// intervals over `[start, end]`, with times mapped by `rel`.
fn replay(r: &Receipts, config: &Config, knob: f64, start: Nanos, end: Nanos, rel: &dyn Fn(Nanos) -> f64) -> Replayed {
    let mut d = config.detector(r.interval, knob);
    let scale = match config.knob().map(|k| k.unit) {
        Some(Unit::Duration) => 1e-6,
        _ => 1.0,
    };
    let step = ((end - start).0 as f64 / SAMPLES).max(1.0);
    let mut level = Vec::new();
    let mut suspected: Vec<(f64, f64)> = Vec::new();
    for j in 0..r.len() {
        let a = r.recv[j];
        if a > end {
            break;
        }
        d.observe(&r.heartbeat(j));
        let next = if j + 1 < r.len() { r.recv[j + 1].min(end) } else { end };
        if next < start {
            continue;
        }
        let from = a.max(start);
        // Level samples on [from, next).
        let mut t = from.0 as f64;
        while t < next.0 as f64 {
            let tn = Nanos(t as i64);
            level.push((rel(tn), d.level(tn) * scale));
            // Near 2^63 the spacing of f64 (2048 ns) can exceed the step: t must still
            // advance (t >= 0, so the next float up is the next bit pattern).
            let nt = t + step;
            t = if nt > t { nt } else { f64::from_bits(t.to_bits() + 1) };
        }
        if next > from {
            let tn = Nanos(next.0 - 1);
            level.push((rel(tn), d.level(tn) * scale));
        }
        if let Some(dl) = d.deadline() {
            let s = dl.max(a).max(start);
            let stop_at = if j + 1 < r.len() { r.recv[j + 1] } else { end };
            let e = stop_at.min(end);
            if dl < stop_at && s < e {
                suspected.push((rel(s), rel(e)));
            }
        }
    }
    Replayed {
        level,
        suspected,
        threshold: d.threshold() * scale,
    }
}
