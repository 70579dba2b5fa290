//! `completeness-accuracy`: the book's two properties against each other: completeness
//! within `D` (y, %) against mistakes per hour (x, log), one line per detector.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::axis::{Axis, fmt_num};
use super::qos::GroupChart;
use super::{DrawResult, Figure, Group, Meta};
use crate::results::Row;

pub(crate) struct CompletenessAccuracy<'g, 'a> {
    pub groups: &'g [Group<'a>],
    pub meta: &'g Meta,
}

impl Figure for CompletenessAccuracy<'_, '_> {
    fn name(&self) -> &'static str {
        "completeness-accuracy"
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let x_axis = Axis::log(
            self.groups
                .iter()
                .flat_map(|g| g.rows.iter().map(|r| r.mistake_rate_per_h)),
        );
        let y_desc = match self.meta.deadline_ms {
            Some(d) => format!("crashes detected within {} ms (%)", fmt_num(d)),
            None => "crashes detected within D (%)".to_string(),
        };
        GroupChart {
            groups: self.groups,
            meta: self.meta,
            title: "Completeness against accuracy, per detector",
            x: |r: &Row| r.mistake_rate_per_h,
            y: |r: &Row| r.completeness * 100.0,
            x_axis,
            y_axis: Some(Axis::fixed(0.0, 100.0, 10.0)),
            x_desc: "mistakes per hour (log scale)".to_string(),
            y_desc,
            better: "Better: toward the upper left (crashes detected in time, few mistakes).",
            zero_note: "Mistake rate drawn at \"0\" (left of the log scale): no mistake in the whole trace.",
            interval: false,
        }
        .draw(root)
    }
}
