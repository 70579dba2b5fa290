//! `qos`: mean detection time (x) against mistake rate (y, log), one line per
//! (detector, params) group, single points as markers and presets labelled; and the
//! drawing shared with `completeness-accuracy`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::Axis;
use super::fig13::{GRID, GRID_LIGHT, runs};
use super::style::{self, Entry, LEGEND_WIDTH, Marker, Swatch};
use super::{DrawResult, Figure, Group, Meta, WIDTH, preset_name};
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
        let y_axis = Axis::log(
            self.groups
                .iter()
                .flat_map(|g| g.rows.iter().map(|r| r.mistake_rate_per_h)),
        );
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
        }
        .draw(root)
    }
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
        let mut entries = Vec::new();
        let mut hidden = Vec::new();
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
            if g.is_single() {
                let p = pts[0].expect("checked above");
                let (size, outline) = if preset.is_some() { (8, style::INK) } else { (6, color) };
                style::draw_marker(chart.plotting_area(), p, marker, &color, &outline, size)?;
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
                        chart.draw_series(DashedLineSeries::new(run.clone(), 10, 5, color.stroke_width(3)))?;
                    } else {
                        chart.draw_series(LineSeries::new(run.clone(), color.stroke_width(3)))?;
                    }
                    for p in run {
                        style::draw_marker(chart.plotting_area(), p, marker, &color, &color, 4)?;
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
