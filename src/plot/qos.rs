//! `qos`: mean detection time (x) against mistake rate (y, log), one line per
//! (detector, params) group, single points as markers and presets labelled, each
//! mistake rate with its 95 % interval (a band along a swept line, an error bar at a
//! single point; where no mistake was seen, a thin line at the upper end); and the
//! drawing shared with `completeness-accuracy`, which leaves the intervals out (across
//! its x axis they would cover the lines). Settings under the accuracy floor are hollow.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::fig13::{GRID, GRID_LIGHT, runs};
use super::style::{self, Entry, LEGEND_WIDTH, Marker, Swatch};
use super::{DrawResult, Figure, Group, Meta, WIDTH, preset_name, rate_interval};
use crate::results::Row;

pub(crate) struct Qos<'g, 'a> {
    pub groups: &'g [Group<'a>],
    pub meta: &'g Meta,
}

impl Figure for Qos<'_, '_> {
    fn name(&self) -> &'static str {
        "qos"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let xs = self
            .groups
            .iter()
            .flat_map(|g| g.rows.iter().map(|r| r.detection_mean_ms));
        let x_axis = spread_axis(xs);
        let y_axis = Axis::log(rates_with_intervals(self.groups, self.meta));
        let x_desc = if matches!(x_axis, Some(Axis::Log { .. })) {
            "mean detection time (ms, log scale)"
        } else {
            "mean detection time (ms)"
        };
        GroupChart {
            groups: self.groups,
            meta: self.meta,
            title: "Detection time against mistake rate, per detector",
            x: |r: &Row| r.detection_mean_ms,
            y: |r: &Row| r.mistake_rate_per_h,
            x_axis,
            y_axis,
            x_desc: x_desc.to_string(),
            y_desc: "mistakes per hour (log scale)".to_string(),
            better: "Better: toward the lower left (fast detection, few mistakes).",
            zero_note: "Mistake rate drawn at \"0\" (below the log scale): no mistake in the whole trace.",
            interval: self.meta.intervals,
        }
        .draw(root)
    }
}

/// Every mistake rate of `groups`, with the ends of their intervals when they are drawn,
/// so that an axis built from them holds every band.
pub(crate) fn rates_with_intervals<'g>(groups: &'g [Group<'_>], meta: &'g Meta) -> impl Iterator<Item = f64> + 'g {
    groups.iter().flat_map(|g| g.rows.iter()).flat_map(move |r| {
        let (lo, hi) = rate_interval(r)
            .filter(|_| meta.intervals)
            .unwrap_or((r.mistake_rate_per_h, r.mistake_rate_per_h));
        [r.mistake_rate_per_h, lo, hi]
    })
}

/// A linear axis from 0, or a log axis when the finite positive values span more than
/// a factor 30.
pub(crate) fn spread_axis(values: impl Iterator<Item = f64>) -> Option<Axis> {
    let v: Vec<f64> = values.filter(|v| v.is_finite() && *v >= 0.0).collect();
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let min_pos = v.iter().copied().filter(|&x| x > 0.0).fold(f64::INFINITY, f64::min);
    if v.is_empty() {
        None
    } else if min_pos.is_finite() && max / min_pos > 30.0 {
        Axis::log(v)
    } else {
        Some(Axis::linear(0.0, max.max(1e-3) * 1.02))
    }
}

/// A chart of every group: a line through each swept group's points (in knob order),
/// a marker for each single point, presets emphasised and labelled.
pub(crate) struct GroupChart<'g, 'a, FX, FY> {
    pub groups: &'g [Group<'a>],
    pub meta: &'g Meta,
    pub title: &'static str,
    pub x: FX,
    pub y: FY,
    pub x_axis: Option<Axis>,
    pub y_axis: Option<Axis>,
    pub x_desc: String,
    pub y_desc: String,
    pub better: &'static str,
    pub zero_note: &'static str,
    /// Draw each mistake rate's 95 % interval (the y axis must be the mistake rate): a
    /// band along each swept line, an error bar at single points.
    pub interval: bool,
}

impl<FX: Fn(&Row) -> f64, FY: Fn(&Row) -> f64> GroupChart<'_, '_, FX, FY> {
    pub(crate) fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let rest = style::title(root, self.title, &self.meta.subtitle)?;
        let (main, side) = rest.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (Some(x_axis), Some(y_axis)) = (&self.x_axis, &self.y_axis) else {
            style::empty_message(&main, "nothing to draw: no result has a finite value on both axes")?;
            return Ok(());
        };
        let mut chart = ChartBuilder::on(&main)
            .margin(16)
            .margin_right(24)
            .x_label_area_size(60)
            .y_label_area_size(96)
            .build_cartesian_2d(x_axis.coord(), y_axis.coord())?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .x_label_formatter(&|v| x_axis.label(*v))
            .y_label_formatter(&|v| y_axis.label(*v))
            .x_desc(self.x_desc.as_str())
            .y_desc(self.y_desc.as_str())
            .label_style(style::plain(style::LABEL))
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;

        let point = |r: &Row| {
            let (x, y) = ((self.x)(r), (self.y)(r));
            (x.is_finite() && y.is_finite()).then(|| (x_axis.pos(x), y_axis.pos(y)))
        };
        // The interval of a row's mistake rate, as (lo, hi) points on the chart.
        let bar = |r: &Row| -> Option<((f64, f64), (f64, f64))> {
            let (x, y) = ((self.x)(r), (self.y)(r));
            let (lo, hi) = rate_interval(r)?;
            (x.is_finite() && y.is_finite()).then(|| ((x_axis.pos(x), y_axis.pos(lo)), (x_axis.pos(x), y_axis.pos(hi))))
        };
        let mut entries = Vec::new();
        let mut hidden = Vec::new();
        let mut any_below_floor = false;
        let mut series = 0;
        let mut placed: Vec<(i32, i32)> = Vec::new();
        let mut preset_points: Vec<((f64, f64), &'static str)> = Vec::new();
        for g in self.groups {
            let preset = g.preset();
            let (color, marker) = match preset {
                Some(_) => (style::PALETTE[6], Marker::Triangle),
                None => (*style::series_color(series), Marker::of(series)),
            };
            if preset.is_none() {
                series += 1;
            }
            let pts: Vec<Option<(f64, f64)>> = g.rows.iter().map(|r| point(r)).collect();
            if pts.iter().all(Option::is_none) {
                hidden.push(g.title());
                continue;
            }
            let dashed = preset.is_none() && (series - 1) / style::SERIES.len() % 2 == 1;
            let below: Vec<bool> = g.rows.iter().map(|r| self.meta.below_floor(r)).collect();
            any_below_floor |= g
                .rows
                .iter()
                .zip(&pts)
                .any(|(r, p)| p.is_some() && self.meta.below_floor(r));
            // Filled, or hollow under the accuracy floor.
            let fill = |below: bool| if below { WHITE } else { color };
            match (self.interval, g.is_single()) {
                (true, false) => {
                    // A band where mistakes were seen; where none was, only the upper
                    // bound, as a thin line (the lower end is zero).
                    let seen = |r: &&Row| r.mistakes > 0;
                    for run in runs(g.rows.iter().map(|r| bar(r).filter(|_| seen(r)))) {
                        let mut poly: Vec<(f64, f64)> = run.iter().map(|&(_, hi)| hi).collect();
                        poly.extend(run.iter().rev().map(|&(lo, _)| lo));
                        chart.draw_series(std::iter::once(Polygon::new(poly, color.mix(0.14).filled())))?;
                    }
                    for run in runs(g.rows.iter().map(|r| bar(r).filter(|_| !seen(r)))) {
                        upper_bound(&chart, run.iter().map(|&(_, hi)| hi).collect(), &color)?;
                    }
                }
                (true, true) => {
                    for (lo, hi) in g.rows.iter().filter_map(|r| bar(r)) {
                        error_bar(&chart, lo, hi, &color)?;
                    }
                }
                (false, _) => {}
            }
            if g.is_single() {
                let p = pts[0].expect("checked above");
                let (size, outline) = if preset.is_some() { (8, style::INK) } else { (6, color) };
                style::draw_marker(chart.plotting_area(), p, marker, &fill(below[0]), &outline, size)?;
                if let Some(name) = preset {
                    preset_points.push((p, name));
                }
                entries.push(Entry {
                    swatch: Swatch::Marker { color, marker, outline },
                    label: g.title(),
                    detail: (!g.params.is_empty()).then(|| g.params.to_string()),
                });
            } else {
                for run in runs(pts.iter().copied()) {
                    if dashed {
                        chart.draw_series(DashedLineSeries::new(run, 10, 5, color.stroke_width(3)))?;
                    } else {
                        chart.draw_series(LineSeries::new(run, color.stroke_width(3)))?;
                    }
                }
                for (p, &b) in pts.iter().zip(&below) {
                    if let Some(p) = p {
                        style::draw_marker(chart.plotting_area(), *p, marker, &fill(b), &color, 4)?;
                    }
                }
                // A preset's setting on a swept line: marked like a single preset.
                for (r, p) in g.rows.iter().zip(&pts) {
                    if let (Some(name), Some(p)) = (preset_name(r), p) {
                        style::draw_marker(
                            chart.plotting_area(),
                            *p,
                            Marker::Triangle,
                            &style::PALETTE[6],
                            &style::INK,
                            8,
                        )?;
                        preset_points.push((*p, name));
                    }
                }
                entries.push(Entry {
                    swatch: Swatch::Line {
                        color,
                        dashed,
                        marker: Some(marker),
                    },
                    label: g.title(),
                    detail: (!g.params.is_empty()).then(|| g.params.to_string()),
                });
            }
        }
        for &(p, name) in &preset_points {
            // Stack labels of nearby presets instead of overprinting them.
            let (px, py) = chart.backend_coord(&p);
            let mut dy = -10;
            while placed
                .iter()
                .any(|&(x, y)| (x - px).abs() < 120 && (y - (py + dy)).abs() < 18)
            {
                dy -= 20;
            }
            placed.push((px, py + dy));
            chart.plotting_area().draw(
                &(EmptyElement::at(p)
                    + Text::new(
                        name.to_string(),
                        (12, dy),
                        style::text(style::LABEL, &style::INK, HPos::Left, VPos::Bottom),
                    )),
            )?;
        }
        if !preset_points.is_empty() && !entries.iter().any(|e: &Entry| e.label.contains("preset")) {
            entries.push(Entry {
                swatch: Swatch::Marker {
                    color: style::PALETTE[6],
                    marker: Marker::Triangle,
                    outline: style::INK,
                },
                label: "production presets".to_string(),
                detail: Some("at their own settings".to_string()),
            });
        }
        if any_below_floor {
            entries.push(self.meta.floor_entry());
        }
        if self.interval {
            entries.push(Entry {
                swatch: Swatch::Band(style::GREY),
                label: "95 % interval of the rate".to_string(),
                detail: Some("thin line: its upper end, no mistake".to_string()),
            });
        }
        let mut notes = vec![self.better.to_string()];
        if y_axis.has_zero_floor() || x_axis.has_zero_floor() {
            notes.push(self.zero_note.to_string());
        }
        if !hidden.is_empty() {
            notes.push(format!(
                "Not shown (infinite detection time at every setting): {}.",
                hidden.join(", ")
            ));
        }
        let partial = self
            .groups
            .iter()
            .filter(|g| g.rows.iter().any(|r| point(r).is_none()) && g.rows.iter().any(|r| point(r).is_some()))
            .count();
        if partial > 0 {
            notes.push(format!(
                "{partial} line(s) leave out settings that never detect some crash."
            ));
        }
        style::legend(&side, "Detectors", &entries, &notes)?;
        Ok(())
    }
}

/// A thin vertical error bar from `lo` to `hi` with caps at both ends.
fn error_bar<DB: DrawingBackend, CT>(
    chart: &ChartContext<'_, DB, CT>,
    lo: (f64, f64),
    hi: (f64, f64),
    color: &RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    let style = color.mix(0.55).stroke_width(1);
    let area = chart.plotting_area();
    area.draw(&PathElement::new(vec![lo, hi], style))?;
    for end in [lo, hi] {
        area.draw(&(EmptyElement::at(end) + PathElement::new(vec![(-4, 0), (4, 0)], style)))?;
    }
    Ok(())
}

/// The upper ends of the intervals of a run of settings without mistakes: a thin line
/// through them, with a cap at each end.
pub(crate) fn upper_bound<DB: DrawingBackend, CT>(
    chart: &ChartContext<'_, DB, CT>,
    points: Vec<(f64, f64)>,
    color: &RGBColor,
) -> DrawResult
where
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate<From = (f64, f64)>,
{
    let style = color.mix(0.6).stroke_width(1);
    let area = chart.plotting_area();
    let ends = [points.first().copied(), points.last().copied()];
    area.draw(&PathElement::new(points, style))?;
    for end in ends.into_iter().flatten() {
        area.draw(&(EmptyElement::at(end) + PathElement::new(vec![(0, 0), (0, 6)], style)))?;
    }
    Ok(())
}
