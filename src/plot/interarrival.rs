//! `interarrival`: histogram of the times between consecutive accepted receipts, with
//! the p50, p99, p99.9 and max marked (nearest-rank percentiles).

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::axis::{Axis, fmt_num};
use super::fig13::{GRID, GRID_LIGHT};
use super::style::{self, Entry, LEGEND_WIDTH, Swatch};
use super::{DrawResult, Figure, WIDTH};
use crate::trace::Receipts;

/// Number of histogram bins.
const BINS: usize = 100;

pub(crate) struct Interarrival<'a> {
    pub receipts: &'a Receipts,
    pub name: &'a str,
}

/// The nearest-rank `q`-quantile of sorted, non-empty `v`.
pub(crate) fn nearest_rank(v: &[f64], q: f64) -> f64 {
    v[crate::metrics::nearest_rank(q, v.len()) - 1]
}

impl Figure for Interarrival<'_> {
    fn name(&self) -> &'static str {
        "interarrival"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let r = self.receipts;
        let eta_ms = r.interval.as_millis_f64();
        let mut gaps: Vec<f64> = r.recv.windows(2).map(|w| (w[1] - w[0]).as_millis_f64()).collect();
        gaps.sort_by(f64::total_cmp);
        let subtitle = format!(
            "{} · {} accepted receipts, {} stale · nominal interval η = {} ms",
            self.name,
            r.len(),
            r.stale,
            fmt_num(eta_ms)
        );
        let rest = style::title(root, "Inter-arrival times of accepted heartbeats", &subtitle)?;
        let (main, side) = rest.split_horizontally(WIDTH - LEGEND_WIDTH);
        if gaps.is_empty() {
            style::empty_message(&main, "fewer than two accepted receipts: no inter-arrival time to show")?;
            return Ok(());
        }
        let marks = [
            ("p50", nearest_rank(&gaps, 0.5)),
            ("p99", nearest_rank(&gaps, 0.99)),
            ("p99.9", nearest_rank(&gaps, 0.999)),
            ("max", gaps[gaps.len() - 1]),
        ];
        let (min, max, p999) = (gaps[0], marks[3].1, marks[2].1);
        let mut hi = if max <= 3.0 * p999 { max } else { p999 * 1.5 };
        if hi <= min {
            hi = min + eta_ms.max(1e-3);
        }
        let lo = if min > 0.3 * hi { min * 0.9 } else { 0.0 };
        let x_axis = Axis::linear(lo, hi * 1.01);
        let (xlo, xhi) = (x_axis.range().start, x_axis.range().end);
        let width = (xhi - xlo) / BINS as f64;
        let mut counts = vec![0u64; BINS];
        let mut beyond = 0usize;
        for &g in &gaps {
            if g > xhi {
                beyond += 1;
            } else {
                let b = (((g - xlo) / width) as usize).min(BINS - 1);
                counts[b] += 1;
            }
        }
        let cmax = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let cmin = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(1) as f64;
        let log_y = cmax / cmin > 100.0;
        let y_axis = if log_y {
            Axis::Log {
                lo: 0,
                hi: (cmax.log10().ceil() as i32).max(1),
                zero: false,
            }
        } else {
            Axis::linear(0.0, cmax * 1.08)
        };
        let mut chart = ChartBuilder::on(&main)
            .margin(16)
            .margin_top(40)
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
            .x_desc("time between consecutive accepted receipts (ms)")
            .y_desc(if log_y {
                "intervals per bin (log scale)"
            } else {
                "intervals per bin"
            })
            .label_style(style::plain(style::LABEL))
            .axis_desc_style(style::plain(style::DESC))
            .draw()?;
        let bottom = y_axis.range().start;
        let blue = style::color(0);
        chart.draw_series(counts.iter().enumerate().filter(|(_, c)| **c > 0).map(|(i, &c)| {
            let x0 = xlo + i as f64 * width;
            Rectangle::new(
                [(x0, bottom), (x0 + width, y_axis.pos(c as f64))],
                blue.mix(0.75).filled(),
            )
        }))?;
        let top = y_axis.range().end;
        let mut entries = Vec::new();
        for (i, &(label, v)) in marks.iter().enumerate() {
            let color = style::color(i + 1);
            let x = v.min(xhi);
            chart.draw_series(DashedLineSeries::new(
                [(x, bottom), (x, top)],
                8,
                5,
                color.stroke_width(2),
            ))?;
            let tag = if v > xhi {
                format!("{label} →")
            } else {
                label.to_string()
            };
            let (h, dx) = if v > xhi { (HPos::Right, -6) } else { (HPos::Left, 6) };
            chart.plotting_area().draw(
                &(EmptyElement::at((x, top))
                    + Text::new(
                        tag,
                        (dx, 6 + 22 * i as i32),
                        style::text(style::LABEL, color, h, VPos::Top),
                    )),
            )?;
            entries.push(Entry::new(
                Swatch::Line {
                    color: *color,
                    dashed: true,
                    marker: None,
                },
                format!("{label} = {} ms", fmt_num(v)),
            ));
        }
        let mut notes = vec![format!("{} intervals; percentiles are nearest-rank.", gaps.len())];
        if beyond > 0 {
            notes.push(format!(
                "{beyond} interval(s) longer than {} ms are beyond the right edge (max = {} ms).",
                fmt_num(xhi),
                fmt_num(max)
            ));
        }
        style::legend(&side, "Percentiles", &entries, &notes)?;
        Ok(())
    }
}
