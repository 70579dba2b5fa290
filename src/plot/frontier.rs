//! `frontier-DETECTOR-PARAM`: a detector tuned at every value of a second parameter
//! (e.g. akka's threshold at each `pause`): the tuned knob's mean and p99 detection time
//! against the second parameter, and the tuned knob value in a panel below. Settings
//! that are not feasible (over the target, under the accuracy floor, or the target not
//! reached in the searched range) are hollow; the fastest feasible pair is ringed and
//! labelled.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::fig13::{GRID, GRID_LIGHT, knob_desc, runs};
use super::style::{self, Entry, LEGEND_WIDTH, Marker, Swatch};
use super::{DrawResult, Figure, WIDTH};
use crate::detector::Unit;

/// One value of the second parameter and the knob tuned at it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Point {
    /// The second parameter's value, as reported (milliseconds for durations).
    pub param: f64,
    /// The tuned knob value, as reported.
    pub knob: f64,
    /// Mean detection time, ms (infinite: some crash is never detected).
    pub mean_ms: f64,
    /// p99 detection time, ms.
    pub p99_ms: f64,
    /// Mistakes per hour.
    pub rate_per_h: f64,
    /// Query accuracy.
    pub accuracy: f64,
    /// Within the target and the accuracy floor, with the target reached in the range.
    pub feasible: bool,
}

pub(crate) struct Frontier<'a> {
    pub detector: &'a str,
    /// The second parameter's name and unit.
    pub param: (&'a str, Unit),
    /// The knob's name.
    pub knob: &'a str,
    /// In order of the second parameter.
    pub points: Vec<Point>,
    /// The index of the fastest feasible point.
    pub best: Option<usize>,
    /// e.g. `at most 1 mistake per hour, P_A at least 0.999 · trace.csv`.
    pub subtitle: String,
}

impl Figure for Frontier<'_> {
    fn name(&self) -> &'static str {
        "frontier"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let rest = style::title(
            root,
            &format!(
                "Tuned {}: the fastest {} at each {}",
                self.detector, self.knob, self.param.0
            ),
            &self.subtitle,
        )?;
        let (main, side) = rest.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (_, h) = main.dim_in_pixel();
        let (top, bottom) = main.split_vertically(h * 64 / 100);
        let pts = &self.points;
        let xs = pts.iter().map(|p| p.param).filter(|v| v.is_finite());
        let (xmin, xmax) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let x_axis = if xmin.is_finite() {
            Axis::linear(xmin.min(0.0), xmax)
        } else {
            Axis::linear(0.0, 1.0)
        };
        let det_max = pts
            .iter()
            .flat_map(|p| [p.mean_ms, p.p99_ms])
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let y_axis = Axis::linear(
            0.0,
            if det_max.is_finite() {
                det_max.max(1e-3) * 1.05
            } else {
                1.0
            },
        );
        let x_desc = match self.param.1 {
            Unit::Duration => format!("{} (ms)", self.param.0),
            _ => self.param.0.to_string(),
        };
        let blue = *style::color(0);
        let red = *style::color(1);
        let green = *style::color(2);

        let mut chart = ChartBuilder::on(&top)
            .margin(16)
            .margin_right(24)
            .x_label_area_size(34)
            .y_label_area_size(96)
            .build_cartesian_2d(x_axis.coord(), y_axis.coord())?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .x_label_formatter(&|v| x_axis.label(*v))
            .y_label_formatter(&|v| y_axis.label(*v))
            .y_desc("detection time (ms)")
            .label_style(style::plain(style::LABEL))
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;
        for (color, marker, dashed, value) in [
            (
                blue,
                Marker::Circle,
                false,
                (|p: &Point| p.mean_ms) as fn(&Point) -> f64,
            ),
            (red, Marker::Square, true, |p: &Point| p.p99_ms),
        ] {
            let at = |p: &Point| (p.param.is_finite() && value(p).is_finite()).then(|| (p.param, value(p)));
            for run in runs(pts.iter().map(at)) {
                if dashed {
                    chart.draw_series(DashedLineSeries::new(run, 10, 5, color.stroke_width(2)))?;
                } else {
                    chart.draw_series(LineSeries::new(run, color.stroke_width(3)))?;
                }
            }
            for p in pts {
                if let Some(xy) = at(p) {
                    let fill = if p.feasible { color } else { WHITE };
                    style::draw_marker(chart.plotting_area(), xy, marker, &fill, &color, 5)?;
                }
            }
        }
        if let Some(b) = self.best.map(|b| &pts[b]).filter(|b| b.mean_ms.is_finite()) {
            chart.plotting_area().draw(
                &(EmptyElement::at((b.param, b.mean_ms)) + Circle::new((0, 0), 11, style::INK.stroke_width(2))),
            )?;
            chart.plotting_area().draw(
                &(EmptyElement::at((b.param, b.mean_ms))
                    + Text::new(
                        format!(
                            "{}={}, {}={}",
                            self.param.0,
                            self.param_text(b.param),
                            self.knob,
                            fmt_num(b.knob)
                        ),
                        (14, -14),
                        style::text(style::LABEL, &style::INK, HPos::Left, VPos::Bottom),
                    )),
            )?;
        }
        if det_max.is_infinite() {
            style::empty_message(
                &top,
                "no setting detects every crash: detection time is infinite everywhere",
            )?;
        }

        let knobs = pts.iter().map(|p| p.knob).filter(|v| v.is_finite());
        let (kmin, kmax) = knobs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let k_axis = if kmin.is_finite() {
            Axis::linear(kmin.min(0.0), kmax.max(kmin.min(0.0) + 1e-3) * 1.05)
        } else {
            Axis::linear(0.0, 1.0)
        };
        let mut kchart = ChartBuilder::on(&bottom)
            .margin(16)
            .margin_right(24)
            .x_label_area_size(56)
            .y_label_area_size(96)
            .build_cartesian_2d(x_axis.coord(), k_axis.coord())?;
        kchart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .x_label_formatter(&|v| x_axis.label(*v))
            .y_label_formatter(&|v| k_axis.label(*v))
            .x_desc(x_desc)
            .y_desc(format!("tuned {}", knob_desc(self.knob)))
            .label_style(style::plain(style::LABEL))
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;
        let at = |p: &Point| (p.param.is_finite() && p.knob.is_finite()).then_some((p.param, p.knob));
        for run in runs(pts.iter().map(at)) {
            kchart.draw_series(LineSeries::new(run, green.stroke_width(3)))?;
        }
        for p in pts {
            if let Some(xy) = at(p) {
                let fill = if p.feasible { green } else { WHITE };
                style::draw_marker(kchart.plotting_area(), xy, Marker::Diamond, &fill, &green, 5)?;
            }
        }

        let mut entries = vec![
            Entry::new(
                Swatch::Line {
                    color: blue,
                    dashed: false,
                    marker: Some(Marker::Circle),
                },
                "mean detection time",
            ),
            Entry::new(
                Swatch::Line {
                    color: red,
                    dashed: true,
                    marker: Some(Marker::Square),
                },
                "p99 detection time",
            ),
            Entry {
                swatch: Swatch::Line {
                    color: green,
                    dashed: false,
                    marker: Some(Marker::Diamond),
                },
                label: format!("tuned {}", self.knob),
                detail: Some("lower panel".to_string()),
            },
        ];
        if pts.iter().any(|p| !p.feasible) {
            entries.push(Entry {
                swatch: Swatch::Marker {
                    color: WHITE,
                    marker: Marker::Circle,
                    outline: style::GREY,
                },
                label: "hollow: not feasible".to_string(),
                detail: Some("over the target or under the floor".to_string()),
            });
        }
        let mut notes = vec![format!(
            "Each {} is the most aggressive {} feasible at it; the pair that detects fastest (mean, then p99) is ringed.",
            self.param.0, self.knob
        )];
        match self.best {
            Some(b) => notes.push(format!(
                "Fastest feasible: {}={}, {}={}: T_D mean {} ms, p99 {} ms, {} mistakes/h, P_A {:.6}.",
                self.param.0,
                self.param_text(pts[b].param),
                self.knob,
                fmt_num(pts[b].knob),
                fmt_num(pts[b].mean_ms),
                fmt_num(pts[b].p99_ms),
                fmt_num(pts[b].rate_per_h),
                pts[b].accuracy
            )),
            None => notes.push(format!("No value of {} gives a feasible setting.", self.param.0)),
        }
        let never = pts.iter().filter(|p| !p.mean_ms.is_finite()).count();
        if never > 0 {
            notes.push(format!(
                "{never} of {} settings never detect some crash: not on the detection axis.",
                pts.len()
            ));
        }
        style::legend(&side, "Legend", &entries, &notes)?;
        Ok(())
    }
}

impl Frontier<'_> {
    /// A value of the second parameter with its unit.
    fn param_text(&self, v: f64) -> String {
        match self.param.1 {
            Unit::Duration => format!("{} ms", fmt_num(v)),
            _ => fmt_num(v),
        }
    }
}
