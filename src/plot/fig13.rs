//! `fig13`: Figure 1.3 of "Distributed Systems for Practitioners" measured: for one
//! detector family, detection time (left axis: mean line, p50–p99 band) and mistakes
//! per hour (right axis, log) against the knob; completeness within `D` in a panel
//! below; the book's two regimes written above the chart.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::style::{self, Entry, LEGEND_WIDTH, Marker, Swatch};
use super::{DrawResult, Figure, Group, Meta, PlotError, WIDTH, rate_interval};

/// Picks the group of `family` (default: `fixed` if present, else the first swept
/// detector): the one of its parameter sets with the most knob values.
pub(crate) fn choose<'g, 'a>(groups: &'g [Group<'a>], family: Option<&str>) -> Result<&'g Group<'a>, PlotError> {
    let swept = |g: &&Group| !g.knob.is_empty() && g.rows.len() > 1;
    let name = match family {
        Some(f) => f.to_string(),
        None => match groups.iter().find(|g| g.detector == "fixed" && swept(g)) {
            Some(g) => g.detector.to_string(),
            None => groups
                .iter()
                .find(swept)
                .ok_or(PlotError::NothingSwept)?
                .detector
                .to_string(),
        },
    };
    let of_family: Vec<&Group> = groups.iter().filter(|g| g.detector == name).collect();
    if of_family.is_empty() {
        let mut available: Vec<String> = Vec::new();
        for g in groups {
            if !available.iter().any(|a| a == g.detector) {
                available.push(g.detector.to_string());
            }
        }
        return Err(PlotError::UnknownFamily { name, available });
    }
    of_family
        .into_iter()
        .filter(swept)
        .max_by_key(|g| g.rows.len())
        .ok_or(PlotError::NotSwept(name))
}

/// The axis description of a knob, with its unit.
pub(crate) fn knob_desc(knob: &str) -> String {
    match knob {
        "timeout" | "alpha" => format!("{knob} (ms)"),
        "threshold" => "threshold (level units)".to_string(),
        other => other.to_string(),
    }
}

/// Splits a series with gaps (`None`) into runs of consecutive points.
pub(crate) fn runs<T>(points: impl IntoIterator<Item = Option<T>>) -> Vec<Vec<T>> {
    let mut out: Vec<Vec<T>> = vec![Vec::new()];
    for p in points {
        match p {
            Some(p) => out.last_mut().expect("never empty").push(p),
            None if out.last().is_some_and(|r| !r.is_empty()) => out.push(Vec::new()),
            None => {}
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// The knob ranges of the settings under the accuracy floor: for each run of them,
/// from halfway to the previous knob value to halfway to the next (the ends of the
/// range at the ends), so that a single value still shows.
pub(crate) fn floor_spans(xs: &[f64], below: &[bool]) -> Vec<(f64, f64)> {
    let finite: Vec<(f64, bool)> = xs
        .iter()
        .zip(below)
        .filter(|(x, _)| x.is_finite())
        .map(|(&x, &b)| (x, b))
        .collect();
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut i = 0;
    while i < finite.len() {
        if !finite[i].1 {
            i += 1;
            continue;
        }
        let start = i;
        while i < finite.len() && finite[i].1 {
            i += 1;
        }
        let a = if start == 0 {
            finite[0].0
        } else {
            (finite[start - 1].0 + finite[start].0) / 2.0
        };
        let b = if i == finite.len() {
            finite[i - 1].0
        } else {
            (finite[i - 1].0 + finite[i].0) / 2.0
        };
        out.push((a, b));
    }
    out
}

/// Grid line colours.
pub(crate) static GRID: RGBColor = RGBColor(215, 215, 215);
pub(crate) static GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);

pub(crate) struct Fig13<'g, 'a> {
    pub group: &'g Group<'a>,
    pub meta: &'g Meta,
}

impl Figure for Fig13<'_, '_> {
    fn name(&self) -> &'static str {
        "fig13"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let g = self.group;
        let mut subtitle = self.meta.subtitle.clone();
        if !g.params.is_empty() {
            subtitle = format!("{} · {subtitle}", g.params);
        }
        let rest = style::title(
            root,
            &format!("Detection time against mistakes: {} detector (Figure 1.3)", g.detector),
            &subtitle,
        )?;
        let (main, side) = rest.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (strip, charts) = main.split_vertically(50);
        self.regimes(&strip)?;
        let (_, ch) = charts.dim_in_pixel();
        let (top, bottom) = charts.split_vertically(ch * 64 / 100);

        let xs: Vec<f64> = g.rows.iter().map(|r| r.value.unwrap_or(f64::NAN)).collect();
        let finite_x = xs.iter().copied().filter(|v| v.is_finite());
        let (xmin, xmax) = finite_x.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
        let x_axis = if xmin.is_finite() {
            Axis::linear(xmin.min(0.0), xmax)
        } else {
            Axis::linear(0.0, 1.0)
        };
        let det_max = g
            .rows
            .iter()
            .flat_map(|r| [r.detection_mean_ms, r.detection_p99_ms])
            .filter(|v| v.is_finite())
            .fold(f64::NEG_INFINITY, f64::max);
        let any_detection = det_max.is_finite();
        let mut ymax = if any_detection { det_max.max(1e-3) } else { 1.0 };
        let deadline = self.meta.deadline_ms.filter(|&d| any_detection && d <= ymax * 1.3);
        if let Some(d) = deadline {
            ymax = ymax.max(d);
        }
        let y_axis = Axis::linear(0.0, ymax * 1.02);
        let intervals: Vec<Option<(f64, f64)>> = g
            .rows
            .iter()
            .map(|r| rate_interval(r).filter(|_| self.meta.intervals))
            .collect();
        let m_axis = Axis::log(
            g.rows
                .iter()
                .map(|r| r.mistake_rate_per_h)
                .chain(intervals.iter().flatten().flat_map(|&(lo, hi)| [lo, hi])),
        )
        .unwrap_or(Axis::Log {
            lo: 0,
            hi: 1,
            zero: false,
        });

        let blue = style::color(0);
        let red = style::color(1);
        let green = style::color(2);

        let mut chart = ChartBuilder::on(&top)
            .margin_top(8)
            .margin_left(12)
            .margin_right(8)
            .x_label_area_size(34)
            .y_label_area_size(96)
            .right_y_label_area_size(96)
            .build_cartesian_2d(x_axis.coord(), y_axis.coord())?
            .set_secondary_coord(x_axis.coord(), m_axis.coord());
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .x_label_formatter(&|v| x_axis.label(*v))
            .y_label_formatter(&|v| y_axis.label(*v))
            .y_desc("detection time (ms)")
            .label_style(style::text(style::LABEL, blue, HPos::Left, VPos::Top))
            .axis_desc_style(style::text(style::DESC, blue, HPos::Left, VPos::Top))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|v| m_axis.label(*v))
            .y_desc("mistakes per hour (log scale)")
            .label_style(style::text(style::LABEL, red, HPos::Left, VPos::Top))
            .axis_desc_style(style::text(style::DESC, red, HPos::Left, VPos::Top))
            .draw()?;

        // p50–p99 band and mean line on the detection axis.
        let band_runs = runs(g.rows.iter().zip(&xs).map(|(r, &x)| {
            (x.is_finite() && r.detection_p50_ms.is_finite() && r.detection_p99_ms.is_finite()).then_some((
                x,
                r.detection_p50_ms,
                r.detection_p99_ms,
            ))
        }));
        for run in &band_runs {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|&(x, _, p99)| (x, p99)).collect();
            poly.extend(run.iter().rev().map(|&(x, p50, _)| (x, p50)));
            chart.draw_series(std::iter::once(Polygon::new(poly, blue.mix(0.22).filled())))?;
        }
        let mean_runs = runs(
            g.rows
                .iter()
                .zip(&xs)
                .map(|(r, &x)| (x.is_finite() && r.detection_mean_ms.is_finite()).then_some((x, r.detection_mean_ms))),
        );
        for run in &mean_runs {
            chart.draw_series(LineSeries::new(run.iter().copied(), blue.stroke_width(3)))?;
        }
        if let Some(d) = deadline {
            chart.draw_series(DashedLineSeries::new(
                [(x_axis.range().start, d), (x_axis.range().end, d)],
                8,
                6,
                style::GREY.stroke_width(2),
            ))?;
            // Labelled where it meets its axis, the detection-time axis on the left.
            chart.draw_series(std::iter::once(
                EmptyElement::at((x_axis.range().start, d))
                    + Text::new(
                        format!("D = {} ms", fmt_num(d)),
                        (6, -4),
                        style::text(style::SMALL, &style::GREY, HPos::Left, VPos::Bottom),
                    ),
            ))?;
        }
        // Settings under the accuracy floor: a grey span behind both axes' curves.
        let below: Vec<bool> = g.rows.iter().map(|r| self.meta.below_floor(r)).collect();
        let spans = floor_spans(&xs, &below);
        for &(a, b) in &spans {
            let (y0, y1) = (y_axis.range().start, y_axis.range().end);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(a, y0), (b, y1)],
                style::GREY.mix(0.10).filled(),
            )))?;
        }
        // The 95 % interval of the mistake rate, a band on the log axis.
        // Where no mistake was seen, only its upper end, as a thin line.
        let interval_at = |seen: bool| {
            runs(g.rows.iter().zip(&xs).zip(&intervals).map(move |((r, &x), iv)| {
                iv.filter(|_| x.is_finite() && (r.mistakes > 0) == seen)
                    .map(|(lo, hi)| (x, lo, hi))
            }))
        };
        for run in &interval_at(true) {
            let mut poly: Vec<(f64, f64)> = run.iter().map(|&(x, _, hi)| (x, m_axis.pos(hi))).collect();
            poly.extend(run.iter().rev().map(|&(x, lo, _)| (x, m_axis.pos(lo))));
            chart.draw_secondary_series(std::iter::once(Polygon::new(poly, red.mix(0.16).filled())))?;
        }
        for run in &interval_at(false) {
            let pts = run.iter().map(|&(x, _, hi)| (x, m_axis.pos(hi))).collect();
            super::qos::upper_bound(chart.borrow_secondary(), pts, red)?;
        }
        // Mistakes on the log axis.
        let mistake_pts: Vec<((f64, f64), bool)> = g
            .rows
            .iter()
            .zip(&xs)
            .zip(&below)
            .filter(|((r, x), _)| x.is_finite() && r.mistake_rate_per_h.is_finite())
            .map(|((r, &x), &b)| ((x, m_axis.pos(r.mistake_rate_per_h)), b))
            .collect();
        chart.draw_secondary_series(LineSeries::new(
            mistake_pts.iter().map(|&(p, _)| p),
            red.stroke_width(3),
        ))?;
        let show_markers = g.rows.len() <= 40;
        for &(p, b) in mistake_pts.iter().filter(|_| show_markers) {
            let fill = if b { &WHITE } else { red };
            style::draw_marker(
                chart.borrow_secondary().plotting_area(),
                p,
                Marker::Square,
                fill,
                red,
                4,
            )?;
        }

        if !any_detection {
            style::empty_message(
                &top,
                "no crash is ever detected at any knob value: detection time is infinite everywhere",
            )?;
        }

        // Completeness panel.
        let c_axis = Axis::fixed(0.0, 105.0, 20.0);
        let mut cchart = ChartBuilder::on(&bottom)
            .margin_top(10)
            .margin_left(12)
            .margin_right(8 + 96)
            .x_label_area_size(56)
            .y_label_area_size(96)
            .build_cartesian_2d(x_axis.coord(), c_axis.coord())?;
        let cdesc = "completeness (%)";
        cchart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(GRID_LIGHT)
            .x_label_formatter(&|v| x_axis.label(*v))
            .y_label_formatter(&|v| if *v <= 100.0 { c_axis.label(*v) } else { String::new() })
            .x_desc(knob_desc(g.knob))
            .y_desc(cdesc)
            .label_style(style::plain(style::LABEL))
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;
        let cpts: Vec<(f64, f64)> = g
            .rows
            .iter()
            .zip(&xs)
            .filter(|(r, x)| x.is_finite() && r.completeness.is_finite())
            .map(|(r, &x)| (x, r.completeness * 100.0))
            .collect();
        cchart.draw_series(LineSeries::new(cpts.iter().copied(), green.stroke_width(3)))?;
        for &p in cpts.iter().filter(|_| show_markers) {
            style::draw_marker(cchart.plotting_area(), p, Marker::Circle, green, green, 4)?;
        }

        // Legend.
        let mut entries = vec![
            Entry::new(
                Swatch::Line {
                    color: *blue,
                    dashed: false,
                    marker: None,
                },
                "mean detection time",
            ),
            Entry::new(Swatch::Band(*blue), "p50–p99 detection time"),
            Entry {
                swatch: Swatch::Line {
                    color: *red,
                    dashed: false,
                    marker: Some(Marker::Square),
                },
                label: "mistakes per hour".to_string(),
                detail: Some("right axis, log scale".to_string()),
            },
        ];
        if intervals.iter().any(Option::is_some) {
            entries.push(Entry {
                swatch: Swatch::Band(*red),
                label: "95 % interval of the rate".to_string(),
                detail: Some("thin line: its upper end, no mistake".to_string()),
            });
        }
        if !spans.is_empty() {
            entries.push(Entry {
                swatch: Swatch::Band(style::GREY),
                label: format!("P_A < {}", self.meta.min_accuracy),
                detail: Some(format!(
                    "under the accuracy floor: never recommended{}",
                    if show_markers { " (hollow)" } else { "" }
                )),
            });
        }
        if let Some(d) = deadline {
            entries.push(Entry::new(
                Swatch::Line {
                    color: style::GREY,
                    dashed: true,
                    marker: None,
                },
                format!("D = {} ms", fmt_num(d)),
            ));
            if let Some(e) = entries.last_mut() {
                e.detail = Some("left axis: the completeness deadline".to_string());
            }
        }
        entries.push(Entry {
            swatch: Swatch::Line {
                color: *green,
                dashed: false,
                marker: Some(Marker::Circle),
            },
            label: "completeness within D".to_string(),
            detail: Some("lower panel: % of crashes detected within D".to_string()),
        });
        let mut notes = vec![format!(
            "Lower panel: the share of crashes (one injected after every evaluated heartbeat) detected within D. It falls from 100 % to 0 % where the detection time crosses the D line{}.",
            if g.rows.first().is_some_and(|r| r.detection_origin == "send") {
                ": the knob plus the heartbeat's delay, counted from its send time"
            } else {
                ", counted from the last receipt"
            }
        )];
        let never = g.rows.iter().filter(|r| !r.detection_mean_ms.is_finite()).count();
        if never > 0 {
            notes.push(format!(
                "{never} of {} knob values never detect some crash (infinite detection time): \
                 not on the detection axis.",
                g.rows.len()
            ));
        }
        if m_axis.has_zero_floor() {
            notes.push("Mistakes drawn at \"0\" (below the log scale): none in the whole trace.".to_string());
        }
        style::legend(&side, "Legend", &entries, &notes)?;
        Ok(())
    }
}

impl Fig13<'_, '_> {
    /// The book's two regimes, left and right above the chart.
    fn regimes<DB: DrawingBackend>(&self, strip: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let (w, _) = strip.dim_in_pixel();
        let (short, long) = match self.group.knob {
            "timeout" => ("short timeout".to_string(), "long timeout".to_string()),
            k => (format!("small {k}"), format!("large {k}")),
        };
        let left = style::text(style::LABEL, &style::INK, HPos::Left, VPos::Top);
        let right = style::text(style::LABEL, &style::INK, HPos::Right, VPos::Top);
        let grey_left = style::text(style::SMALL, &style::GREY, HPos::Left, VPos::Top);
        let grey_right = style::text(style::SMALL, &style::GREY, HPos::Right, VPos::Top);
        strip.draw_text(&format!("← {short}: fast detection,"), &left, (100, 4))?;
        strip.draw_text("slow nodes declared dead", &grey_left, (120, 26))?;
        let rx = w as i32 - 104;
        strip.draw_text(&format!("{long}: lenient with slow nodes, →"), &right, (rx, 4))?;
        strip.draw_text("slow to detect crashes", &grey_right, (rx - 20, 26))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_spans_reach_halfway_to_the_neighbours() {
        let xs = [0.0, 10.0, 20.0, 30.0, 40.0];
        assert_eq!(
            floor_spans(&xs, &[true, true, false, true, false]),
            [(0.0, 15.0), (25.0, 35.0)]
        );
        assert_eq!(floor_spans(&xs, &[false, false, false, false, true]), [(35.0, 40.0)]);
        assert!(floor_spans(&xs, &[false; 5]).is_empty());
        // Knob values that are not finite are left out.
        assert_eq!(floor_spans(&[0.0, f64::NAN, 10.0], &[false, true, true]), [(5.0, 10.0)]);
    }
}
