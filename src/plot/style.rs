//! Shared look: the colour-blind-friendly palette (Okabe–Ito), fonts, titles, the
//! legend panel beside each chart, and markers.

use plotters::coord::CoordTranslate;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::DrawResult;

/// Okabe–Ito colours, most distinct first (yellow left out: unreadable on white).
pub(crate) static PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];
/// Colours of detector series, one per detector: Paul Tol's "muted" scheme (SRON
/// technical note SRON/EPS/TN/09-002), nine colours that stay distinct to every common
/// form of colour blindness. Presets are drawn in black, which the scheme leaves free.
pub(crate) static SERIES: [RGBColor; 9] = [
    RGBColor(0x33, 0x22, 0x88), // indigo
    RGBColor(0x88, 0xCC, 0xEE), // cyan
    RGBColor(0x44, 0xAA, 0x99), // teal
    RGBColor(0x11, 0x77, 0x33), // green
    RGBColor(0x99, 0x99, 0x33), // olive
    RGBColor(0xDD, 0xCC, 0x77), // sand
    RGBColor(0xCC, 0x66, 0x77), // rose
    RGBColor(0x88, 0x22, 0x55), // wine
    RGBColor(0xAA, 0x44, 0x99), // purple
];

/// The colour of detector series `i`.
pub(crate) fn series_color(i: usize) -> &'static RGBColor {
    &SERIES[i % SERIES.len()]
}

/// Text and axes.
pub(crate) static INK: RGBColor = RGBColor(30, 30, 30);
/// Secondary text.
pub(crate) static GREY: RGBColor = RGBColor(100, 100, 100);

/// Width of the legend panel at the right of each figure, pixels.
pub(crate) const LEGEND_WIDTH: u32 = 300;

/// Title text size.
pub(crate) const TITLE: f64 = 28.0;
/// Axis description size.
pub(crate) const DESC: f64 = 19.0;
/// Tick label and legend size.
pub(crate) const LABEL: f64 = 16.0;
/// Small notes.
pub(crate) const SMALL: f64 = 14.0;

/// The colour of series `i`.
pub(crate) fn color(i: usize) -> &'static RGBColor {
    &PALETTE[i % PALETTE.len()]
}

/// The text style of `size` in `color`, anchored at `pos`.
pub(crate) fn text(size: f64, color: &'static RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(color).pos(Pos::new(h, v))
}

/// Text at the top left, the usual anchor.
pub(crate) fn plain(size: f64) -> TextStyle<'static> {
    text(size, &INK, HPos::Left, VPos::Top)
}

/// Marker shapes, cycled with the colours so that series differ in two ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Square,
    Triangle,
    Diamond,
}

impl Marker {
    /// The marker of series `i`.
    pub fn of(i: usize) -> Marker {
        [Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond][(i / 2 + i) % 4]
    }
}

/// Draws `m` of half-size `s` pixels at `at`, filled, with a thin outline in `outline`.
pub(crate) fn draw_marker<DB: DrawingBackend, CT: CoordTranslate>(
    area: &DrawingArea<DB, CT>,
    at: CT::From,
    m: Marker,
    color: &RGBColor,
    outline: &RGBColor,
    s: i32,
) -> DrawResult
where
    DB::ErrorType: 'static,
    CT::From: Clone,
{
    let pts: Vec<(i32, i32)> = match m {
        Marker::Circle => {
            area.draw(&(EmptyElement::at(at.clone()) + Circle::new((0, 0), s, color.filled())))?;
            area.draw(&(EmptyElement::at(at) + Circle::new((0, 0), s, outline.stroke_width(1))))?;
            return Ok(());
        }
        Marker::Square => vec![(-s, -s), (s, -s), (s, s), (-s, s)],
        Marker::Triangle => {
            let t = s + 2;
            vec![(0, -t), (t, t * 3 / 4), (-t, t * 3 / 4)]
        }
        Marker::Diamond => {
            let t = s + 1;
            vec![(0, -t), (t, 0), (0, t), (-t, 0)]
        }
    };
    let mut closed = pts.clone();
    closed.push(pts[0]);
    area.draw(&(EmptyElement::at(at.clone()) + Polygon::new(pts, color.filled())))?;
    area.draw(&(EmptyElement::at(at) + PathElement::new(closed, outline.stroke_width(1))))?;
    Ok(())
}

/// Draws the title and subtitle; returns the area below them.
pub(crate) fn title<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, Box<dyn std::error::Error + Send + Sync>>
where
    DB::ErrorType: 'static,
{
    let (head, rest) = root.split_vertically(78);
    head.draw_text(title, &plain(TITLE), (24, 12))?;
    head.draw_text(
        &clip(subtitle, 130),
        &text(LABEL, &GREY, HPos::Left, VPos::Top),
        (24, 50),
    )?;
    Ok(rest)
}

/// What a legend entry shows before its label.
#[derive(Clone, Debug)]
pub(crate) enum Swatch {
    /// A line, dashed or solid, with an optional marker.
    Line {
        color: RGBColor,
        dashed: bool,
        marker: Option<Marker>,
    },
    /// A lone marker.
    Marker {
        color: RGBColor,
        marker: Marker,
        outline: RGBColor,
    },
    /// A shaded band.
    Band(RGBColor),
}

/// One legend entry: a swatch, a label and an optional second line in grey.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub swatch: Swatch,
    pub label: String,
    pub detail: Option<String>,
}

impl Entry {
    /// An entry without a second line.
    pub fn new(swatch: Swatch, label: impl Into<String>) -> Entry {
        Entry {
            swatch,
            label: label.into(),
            detail: None,
        }
    }
}

/// Shortens `s` to `n` characters with an ellipsis.
pub(crate) fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Draws a legend in `area` (the panel right of a chart): a heading, the entries, then
/// notes in grey, wrapped to the panel. Entries that do not fit are summarised.
pub(crate) fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: &str,
    entries: &[Entry],
    notes: &[String],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (_, h) = area.dim_in_pixel();
    let h = h as i32;
    let x0 = 10;
    let tx = x0 + 44;
    let mut y = 14;
    area.draw_text(heading, &plain(DESC), (x0, y))?;
    y += 34;
    let notes_height: i32 = notes.iter().map(|n| wrap(n, 34).len() as i32 * 18 + 6).sum();
    for (i, e) in entries.iter().enumerate() {
        let details = e.detail.as_deref().map(detail_lines).unwrap_or_default();
        let need = 26 + 18 * details.len() as i32;
        if y + need + notes_height > h - 10 && i + 1 < entries.len() {
            area.draw_text(
                &format!("… and {} more", entries.len() - i),
                &text(LABEL, &GREY, HPos::Left, VPos::Top),
                (tx, y),
            )?;
            y += 26;
            break;
        }
        let cy = y + 9;
        match &e.swatch {
            Swatch::Line { color, dashed, marker } => {
                let style = color.stroke_width(3);
                if *dashed {
                    for k in 0..3 {
                        area.draw(&PathElement::new(vec![(x0 + k * 13, cy), (x0 + k * 13 + 8, cy)], style))?;
                    }
                } else {
                    area.draw(&PathElement::new(vec![(x0, cy), (x0 + 34, cy)], style))?;
                }
                if let Some(m) = marker {
                    draw_marker(area, (x0 + 17, cy), *m, color, color, 4)?;
                }
            }
            Swatch::Marker { color, marker, outline } => draw_marker(area, (x0 + 17, cy), *marker, color, outline, 6)?,
            Swatch::Band(color) => {
                area.draw(&Rectangle::new(
                    [(x0, cy - 8), (x0 + 34, cy + 8)],
                    color.mix(0.25).filled(),
                ))?;
            }
        }
        area.draw_text(&clip(&e.label, 30), &plain(LABEL), (tx, y))?;
        y += 22;
        for d in &details {
            area.draw_text(d, &text(SMALL, &GREY, HPos::Left, VPos::Top), (tx, y))?;
            y += 18;
        }
        y += 4;
    }
    y += 10;
    for n in notes {
        for line in wrap(n, 34) {
            area.draw_text(&line, &text(SMALL, &GREY, HPos::Left, VPos::Top), (x0, y))?;
            y += 18;
        }
        y += 6;
    }
    Ok(())
}

/// A legend entry's detail (e.g. `window=1000;min_std=100ms;pause=3s`) on at most two
/// lines of about 30 characters, broken after `;` or spaces.
fn detail_lines(d: &str) -> Vec<String> {
    const N: usize = 30;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for part in d.split_inclusive([';', ' ']) {
        if !cur.is_empty() && cur.chars().count() + part.chars().count() > N {
            lines.push(std::mem::take(&mut cur));
        }
        cur.push_str(part);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    if lines.len() > 2 {
        let rest = lines[1..].concat();
        lines.truncate(1);
        lines.push(rest);
    }
    lines.into_iter().map(|l| clip(&l, N + 2)).collect()
}

/// Splits `s` into lines of at most about `n` characters at spaces.
pub(crate) fn wrap(s: &str, n: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in s.split_whitespace() {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > n {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// A message in the middle of an area that has nothing to show.
pub(crate) fn empty_message<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, msg: &str) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    let lines = wrap(msg, 60);
    let style = text(DESC, &GREY, HPos::Center, VPos::Top);
    let widest = lines
        .iter()
        .map(|l| area.estimate_text_size(l, &style).map(|(tw, _)| tw as i32))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .max()
        .unwrap_or(0);
    let (cx, top) = (w as i32 / 2, h as i32 / 2 - 20);
    let bottom = top + 26 * lines.len() as i32;
    area.draw(&Rectangle::new(
        [(cx - widest / 2 - 12, top - 8), (cx + widest / 2 + 12, bottom + 4)],
        WHITE.filled(),
    ))?;
    area.draw(&Rectangle::new(
        [(cx - widest / 2 - 12, top - 8), (cx + widest / 2 + 12, bottom + 4)],
        GREY.stroke_width(1),
    ))?;
    for (i, line) in lines.iter().enumerate() {
        area.draw_text(line, &style, (cx, top + 26 * i as i32))?;
    }
    Ok(())
}
