//! `index.html`: the report as one self-contained page.
//!
//! The page is the summary rendered from its Markdown, with the plots inline: the
//! detection-time and completeness charts are drawn here as SVG from the results, every
//! point carrying its setting and metrics for a tooltip on hover, and the other figures
//! are the report's own SVG files. Every table sorts by a click on a column header.
//! Nothing is fetched: a content security policy forbids any request, the styles and the
//! few lines of script are inline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::results::Row;

/// The colour of detector series `i`, as in the PNG and SVG plots.
fn series_color(i: usize) -> String {
    let c = crate::plot::style::series_color(i);
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// The marker of detector series `i`, as in the PNG and SVG plots.
fn shape_of(i: usize) -> Shape {
    use crate::plot::style::Marker;
    match Marker::of(i) {
        Marker::Circle => Shape::Circle,
        Marker::Square => Shape::Square,
        Marker::Triangle => Shape::Triangle,
        Marker::Diamond => Shape::Diamond,
    }
}

#[derive(Clone, Copy)]
enum Shape {
    Circle,
    Square,
    Triangle,
    Diamond,
}

/// What goes into the page besides the summary.
pub struct Page<'a> {
    /// The report's title.
    pub title: &'a str,
    /// `summary.md`.
    pub summary_md: &'a str,
    /// The swept rows.
    pub rows: &'a [Row],
    /// The tuned rows, and for each the preset it stands for.
    pub tuned: &'a [(Row, Option<&'a str>)],
    /// The accuracy floor: swept settings under it are drawn hollow, as never
    /// recommended.
    pub min_accuracy: f64,
    /// The SVG text of a figure file of the folder (`fig13.svg`), if it exists.
    pub svg: &'a dyn Fn(&str) -> Option<String>,
}

/// The page's HTML.
pub fn render(p: &Page) -> String {
    let mut body = String::new();
    markdown(p.summary_md, &mut body, &|file, alt| figure(p, file, alt));
    let _ = write!(
        body,
        "<h2>Every swept setting</h2>\n<details><summary>{} rows of <code>results.csv</code> (click a column to sort)</summary>\n",
        p.rows.len()
    );
    results_table(p.rows, &mut body);
    body.push_str("</details>\n");
    shell(p.title, &body)
}

/// The page of a report that is all Markdown (a cluster report's `summary.md`), its
/// tables sortable as in [`render`].
pub fn render_markdown(title: &str, summary_md: &str) -> String {
    let mut body = String::new();
    markdown(summary_md, &mut body, &|file, alt| {
        format!("<p>{}: {}</p>\n", esc(alt), esc(file))
    });
    shell(title, &body)
}

/// The HTML document around a page's body.
fn shell(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>fdbench report: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}</main>\n\
         <div id=\"tip\" role=\"tooltip\" hidden></div>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        esc(title)
    )
}

const STYLE: &str = "
body{font-family:system-ui,sans-serif;color:#1e1e1e;margin:0;background:#fff}
main{max-width:1200px;margin:0 auto;padding:1em 2em}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #ccc;padding:.25em .5em;text-align:right;white-space:nowrap}
th{background:#f2f2f2;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}
td:first-child,td:nth-child(2){text-align:left}
pre{background:#f6f6f6;padding:.6em;overflow-x:auto;white-space:pre-wrap}
figure{margin:1em 0}figcaption{color:#555;font-size:.9em}
svg{max-width:100%;height:auto}
.chart .pt{cursor:crosshair}.chart .pt:hover{stroke:#000;stroke-width:2}
#tip{position:fixed;pointer-events:none;background:#fffff0;border:1px solid #333;padding:.4em .6em;font-size:.85em;white-space:pre;box-shadow:2px 2px 6px #0003;z-index:10}
";

const SCRIPT: &str = r#"
(function(){
  var tip=document.getElementById('tip');
  document.addEventListener('mouseover',function(e){
    var t=e.target.closest&&e.target.closest('[data-tip]');
    if(!t){tip.hidden=true;return;}
    tip.textContent=t.getAttribute('data-tip');
    tip.hidden=false;
    var x=e.clientX+14,y=e.clientY+14;
    if(x+tip.offsetWidth>innerWidth)x=e.clientX-tip.offsetWidth-14;
    if(y+tip.offsetHeight>innerHeight)y=e.clientY-tip.offsetHeight-14;
    tip.style.left=x+'px';tip.style.top=y+'px';
  });
  function key(s){
    s=s.trim();
    if(s==='never'||s==='inf')return Infinity;
    var m=s.match(/^[a-z_]+=([-0-9.e+]+)/i);if(m)s=m[1];
    var n=parseFloat(s);
    return isNaN(n)?s.toLowerCase():n;
  }
  function cmp(a,b){
    if(typeof a===typeof b)return a<b?-1:a>b?1:0;
    return typeof a==='number'?-1:1;
  }
  document.querySelectorAll('table.sortable').forEach(function(table){
    table.querySelectorAll('thead th').forEach(function(th,col){
      th.setAttribute('title','sort by this column');
      th.addEventListener('click',function(){
        var asc=th.getAttribute('aria-sort')!=='ascending';
        table.querySelectorAll('thead th').forEach(function(h){h.removeAttribute('aria-sort');});
        th.setAttribute('aria-sort',asc?'ascending':'descending');
        var body=table.tBodies[0];
        var rows=Array.prototype.slice.call(body.rows);
        rows.forEach(function(r,i){r._i=i;});
        rows.sort(function(a,b){
          var c=cmp(key(a.cells[col].textContent),key(b.cells[col].textContent));
          return (asc?c:-c)||a._i-b._i;
        });
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  });
})();
"#;

/// The HTML of the figure the summary shows as `file`.
fn figure(p: &Page, file: &str, alt: &str) -> String {
    let stem = file.trim_end_matches(".png");
    let chart = match stem {
        "qos" => Some(Chart {
            id: "qos",
            title: "Mean detection time against mistake rate",
            y_label: "mean detection time (ms, log scale)",
            y: |r| r.detection_mean_ms,
            y_log: true,
            caption: "Every swept setting of every detector; hollow ones are under the accuracy floor and never recommended. The tuned settings are drawn larger with a black outline and the 95 % interval of their mistake rate as a bar, the production presets as black triangles. Better is toward the lower left. Hover a point for its setting and metrics.",
        }),
        "completeness-accuracy" => Some(Chart {
            id: "completeness",
            title: "Completeness within D against mistake rate",
            y_label: "completeness within D",
            y: |r| r.completeness,
            y_log: false,
            caption: "Completeness is the share of crashes, injected after every evaluated heartbeat, that the detector suspects within the deadline D. Better is toward the upper left. Hover a point for its setting and metrics.",
        }),
        _ => None,
    };
    match chart {
        Some(c) => c.render(p.rows, p.tuned, p.min_accuracy),
        None => match (p.svg)(&format!("{stem}.svg")) {
            Some(svg) => format!(
                "<figure class=\"figure\" id=\"fig-{}\">{}<figcaption>{}</figcaption></figure>\n",
                esc(stem),
                strip_xml_prolog(&svg),
                esc(alt)
            ),
            None => format!("<p>({} is not in this folder)</p>\n", esc(file)),
        },
    }
}

fn strip_xml_prolog(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

/// An interactive scatter chart of the results against the mistake rate (log x axis).
struct Chart {
    id: &'static str,
    title: &'static str,
    y_label: &'static str,
    y: fn(&Row) -> f64,
    y_log: bool,
    caption: &'static str,
}

const W: f64 = 1000.0;
const H: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 250.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;

/// A value-to-pixel map: logarithmic (with a "0" position below its decades) or linear.
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
    zero: bool,
    from: f64,
    to: f64,
}

impl Scale {
    fn new(values: impl Iterator<Item = f64> + Clone, log: bool, from: f64, to: f64) -> Scale {
        let finite = values.filter(|v| v.is_finite());
        if log {
            let pos = finite.clone().filter(|&v| v > 0.0);
            let lo = pos.clone().fold(f64::INFINITY, f64::min);
            let hi = pos.fold(f64::NEG_INFINITY, f64::max);
            let zero = finite.clone().any(|v| v <= 0.0);
            let (lo, hi) = if lo.is_finite() {
                (lo.log10().floor(), hi.log10().ceil().max(lo.log10().floor() + 1.0))
            } else {
                (0.0, 1.0)
            };
            Scale {
                log,
                lo,
                hi,
                zero,
                from,
                to,
            }
        } else {
            let hi = finite.fold(1.0, f64::max);
            Scale {
                log,
                lo: 0.0,
                hi,
                zero: false,
                from,
                to,
            }
        }
    }

    /// Where `v` is drawn; the "0" of a log scale sits half a decade below it.
    fn px(&self, v: f64) -> f64 {
        let span = if self.zero {
            self.hi - self.lo + 0.5
        } else {
            self.hi - self.lo
        };
        let t = if self.log {
            let base = if self.zero { self.lo - 0.5 } else { self.lo };
            let l = if v <= 0.0 { base } else { v.log10() };
            (l - base) / span
        } else {
            (v - self.lo) / (self.hi - self.lo)
        };
        self.from + t * (self.to - self.from)
    }

    /// Tick values and labels.
    fn ticks(&self) -> Vec<(f64, String)> {
        let mut out = Vec::new();
        if self.log {
            if self.zero {
                out.push((0.0, "0".to_string()));
            }
            for e in self.lo as i32..=self.hi as i32 {
                let v = 10f64.powi(e);
                out.push((v, num(v)));
            }
        } else {
            for i in 0..=5 {
                let v = self.lo + (self.hi - self.lo) * i as f64 / 5.0;
                out.push((v, num(v)));
            }
        }
        out
    }
}

impl Chart {
    fn render(&self, rows: &[Row], tuned: &[(Row, Option<&str>)], floor: f64) -> String {
        let all = rows.iter().chain(tuned.iter().map(|(r, _)| r));
        let ends = tuned
            .iter()
            .filter_map(|(r, _)| r.mistake_rate_low_per_h.zip(r.mistake_rate_high_per_h))
            .flat_map(|(lo, hi)| [lo, hi]);
        let x = Scale::new(
            all.clone().map(|r| r.mistake_rate_per_h).chain(ends),
            true,
            LEFT,
            W - RIGHT,
        );
        let y = Scale::new(all.map(self.y), self.y_log, H - BOTTOM, TOP);
        let mut s = String::new();
        let _ = write!(
            s,
            "<figure class=\"chart\" id=\"chart-{id}\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" font-family=\"sans-serif\" font-size=\"13\" role=\"img\" aria-label=\"{t}\">\n<text x=\"{LEFT}\" y=\"22\" font-size=\"17\">{t}</text>\n",
            id = self.id,
            t = esc(self.title)
        );
        axes(&mut s, &x, &y, "mistakes per hour (log scale)", self.y_label);
        // Series in results order, one per detector and parameters.
        let mut series: BTreeMap<(String, String), usize> = BTreeMap::new();
        let mut order: Vec<(String, String)> = Vec::new();
        for r in rows {
            let k = (r.detector.clone(), r.params.clone());
            if !series.contains_key(&k) {
                series.insert(k.clone(), order.len());
                order.push(k);
            }
        }
        let _ = writeln!(s, "<g class=\"points\">");
        let mut any_below = false;
        for r in rows {
            let i = series[&(r.detector.clone(), r.params.clone())];
            let below = r.query_accuracy < floor;
            any_below |= below;
            let color = series_color(i);
            let (fill, outline, label) = if below {
                (
                    "#FFFFFF".to_string(),
                    Some(color.as_str()),
                    format!(
                        "{} (P_A under the accuracy floor {floor}: never recommended)",
                        r.detector
                    ),
                )
            } else {
                (color.clone(), None, r.detector.clone())
            };
            point(&mut s, &x, &y, r, self.y, &fill, shape_of(i), 3.5, outline, &label);
        }
        for (r, preset) in tuned {
            let (color, shape, label) = match preset {
                Some(name) => ("#000000".to_string(), Shape::Triangle, format!("{name} (preset)")),
                None => {
                    let i = series
                        .get(&(r.detector.clone(), r.params.clone()))
                        .copied()
                        .unwrap_or(0);
                    (series_color(i), shape_of(i), format!("{} (tuned)", r.detector))
                }
            };
            interval_bar(&mut s, &x, &y, r, self.y);
            point(&mut s, &x, &y, r, self.y, &color, shape, 7.0, Some("#000"), &label);
        }
        let _ = writeln!(s, "</g>");
        // Legend.
        let lx = W - RIGHT + 24.0;
        let _ = writeln!(
            s,
            "<g class=\"legend\"><text x=\"{lx}\" y=\"{}\" font-size=\"15\">Detectors</text>",
            TOP + 6.0
        );
        for (i, (name, params)) in order.iter().enumerate() {
            let ly = TOP + 30.0 + 34.0 * i as f64;
            marker(
                &mut s,
                lx + 6.0,
                ly - 4.0,
                5.0,
                shape_of(i),
                &series_color(i),
                None,
                None,
            );
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{ly}\">{}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#666\">{}</text>",
                lx + 18.0,
                esc(name),
                lx + 18.0,
                ly + 13.0,
                esc(&clip(params, 40))
            );
        }
        let mut ly = TOP + 30.0 + 34.0 * order.len() as f64;
        if any_below {
            marker(
                &mut s,
                lx + 6.0,
                ly - 4.0,
                5.0,
                Shape::Circle,
                "#FFFFFF",
                Some("#646464"),
                None,
            );
            let _ = writeln!(
                s,
                "<text x=\"{}\" y=\"{ly}\">hollow: P_A &lt; {floor}</text><text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#666\">under the accuracy floor: never recommended</text>",
                lx + 18.0,
                lx + 18.0,
                ly + 13.0
            );
            ly += 34.0;
        }
        if tuned.iter().any(|(_, p)| p.is_some()) {
            marker(
                &mut s,
                lx + 6.0,
                ly - 4.0,
                6.0,
                Shape::Triangle,
                "#000000",
                Some("#000"),
                None,
            );
            let _ = writeln!(s, "<text x=\"{}\" y=\"{ly}\">production presets</text>", lx + 18.0);
        }
        if x.zero {
            let _ = writeln!(
                s,
                "<text x=\"{lx}\" y=\"{}\" font-size=\"11\" fill=\"#555\">\"0\": no mistake in the whole trace</text>",
                ly + 26.0
            );
        }
        let _ = writeln!(s, "</g>\n</svg><figcaption>{}</figcaption></figure>", esc(self.caption));
        s
    }
}

fn axes(s: &mut String, x: &Scale, y: &Scale, x_label: &str, y_label: &str) {
    let (x0, x1, y0, y1) = (LEFT, W - RIGHT, H - BOTTOM, TOP);
    let _ = writeln!(
        s,
        "<rect x=\"{x0}\" y=\"{y1}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>",
        x1 - x0,
        y0 - y1
    );
    for (v, label) in x.ticks() {
        let px = x.px(v);
        let _ = writeln!(
            s,
            "<line x1=\"{px:.1}\" y1=\"{y1}\" x2=\"{px:.1}\" y2=\"{y0}\" stroke=\"#e4e4e4\"/><text x=\"{px:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            y0 + 18.0
        );
    }
    for (v, label) in y.ticks() {
        let py = y.px(v);
        let _ = writeln!(
            s,
            "<line x1=\"{x0}\" y1=\"{py:.1}\" x2=\"{x1}\" y2=\"{py:.1}\" stroke=\"#e4e4e4\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            x0 - 6.0,
            py + 4.0
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"14\">{}</text><text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">{}</text>",
        (x0 + x1) / 2.0,
        H - 14.0,
        esc(x_label),
        (y0 + y1) / 2.0,
        esc(y_label)
    );
}

#[allow(clippy::too_many_arguments)]
fn point(
    s: &mut String,
    x: &Scale,
    y: &Scale,
    r: &Row,
    fy: fn(&Row) -> f64,
    color: &str,
    shape: Shape,
    size: f64,
    outline: Option<&str>,
    label: &str,
) {
    let (vx, vy) = (r.mistake_rate_per_h, fy(r));
    if !vx.is_finite() || !vy.is_finite() {
        return;
    }
    let interval = match (r.mistake_rate_low_per_h, r.mistake_rate_high_per_h) {
        (Some(lo), Some(hi)) => format!(" (95 % interval [{lo:.3}, {hi:.3}])"),
        _ => String::new(),
    };
    let tip = format!(
        "{label}{}{}\n{}\nmistakes {:.3} / h{interval} · P_A {:.6}\nT_D mean {} · p99 {} · max {}\ncompleteness within D = {} ms: {:.4}",
        if r.params.is_empty() { "" } else { " · " },
        r.params,
        r.setting().unwrap_or_else(|| "no knob".into()),
        r.mistake_rate_per_h,
        r.query_accuracy,
        ms(r.detection_mean_ms),
        ms(r.detection_p99_ms),
        ms(r.detection_max_ms),
        num(r.deadline_ms),
        r.completeness
    );
    marker(s, x.px(vx), y.px(vy), size, shape, color, outline, Some(&tip));
}

/// The 95 % interval of a row's mistake rate (the x axis) as a thin bar with caps.
fn interval_bar(s: &mut String, x: &Scale, y: &Scale, r: &Row, fy: fn(&Row) -> f64) {
    let (Some(lo), Some(hi)) = (r.mistake_rate_low_per_h, r.mistake_rate_high_per_h) else {
        return;
    };
    let vy = fy(r);
    if !(vy.is_finite() && lo.is_finite() && hi.is_finite()) {
        return;
    }
    let (x0, x1, py) = (x.px(lo), x.px(hi), y.px(vy));
    let _ = writeln!(
        s,
        "<path d=\"M{x0:.1} {py:.1}H{x1:.1}M{x0:.1} {:.1}V{:.1}M{x1:.1} {:.1}V{:.1}\" stroke=\"#000\" stroke-opacity=\"0.5\" fill=\"none\"/>",
        py - 5.0,
        py + 5.0,
        py - 5.0,
        py + 5.0
    );
}

#[allow(clippy::too_many_arguments)]
fn marker(
    s: &mut String,
    cx: f64,
    cy: f64,
    r: f64,
    shape: Shape,
    fill: &str,
    outline: Option<&str>,
    tip: Option<&str>,
) {
    let stroke = outline.unwrap_or(fill);
    let attrs = match tip {
        Some(t) => format!(" class=\"pt\" data-tip=\"{}\"", esc(t)),
        None => String::new(),
    };
    let _ = match shape {
        Shape::Circle => writeln!(
            s,
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r:.1}\" fill=\"{fill}\" stroke=\"{stroke}\"{attrs}/>"
        ),
        Shape::Square => writeln!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\" stroke=\"{stroke}\"{attrs}/>",
            cx - r * 0.9,
            cy - r * 0.9,
            1.8 * r,
            1.8 * r
        ),
        Shape::Triangle => writeln!(
            s,
            "<polygon points=\"{cx:.1},{:.1} {:.1},{:.1} {:.1},{:.1}\" fill=\"{fill}\" stroke=\"{stroke}\"{attrs}/>",
            cy - 1.2 * r,
            cx + 1.1 * r,
            cy + 0.8 * r,
            cx - 1.1 * r,
            cy + 0.8 * r
        ),
        Shape::Diamond => writeln!(
            s,
            "<polygon points=\"{cx:.1},{:.1} {:.1},{cy:.1} {cx:.1},{:.1} {:.1},{cy:.1}\" fill=\"{fill}\" stroke=\"{stroke}\"{attrs}/>",
            cy - 1.2 * r,
            cx + 1.2 * r,
            cy + 1.2 * r,
            cx - 1.2 * r
        ),
    };
}

/// The whole results table, sortable.
fn results_table(rows: &[Row], out: &mut String) {
    out.push_str("<table class=\"sortable results\"><thead><tr>");
    for h in [
        "detector",
        "params",
        "setting",
        "mistakes",
        "mistakes / h",
        "T_M mean ms",
        "P_A",
        "T_D mean ms",
        "T_D p50 ms",
        "T_D p99 ms",
        "T_D max ms",
        "completeness",
    ] {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        let cells = [
            r.detector.clone(),
            r.params.clone(),
            r.setting().unwrap_or_else(|| "-".into()),
            r.mistakes.to_string(),
            format!("{:.3}", r.mistake_rate_per_h),
            r.mistake_duration_mean_ms
                .map_or_else(|| "-".into(), |v| format!("{v:.1}")),
            format!("{:.6}", r.query_accuracy),
            ms(r.detection_mean_ms),
            ms(r.detection_p50_ms),
            ms(r.detection_p99_ms),
            ms(r.detection_max_ms),
            format!("{:.4}", r.completeness),
        ];
        out.push_str("<tr>");
        for c in cells {
            let _ = write!(out, "<td>{}</td>", esc(&c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "never".into()
    }
}

/// A number in its shortest form, without a trailing `.0`.
fn num(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{}", (v * 1e4).round() / 1e4)
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

/// Inline Markdown: `code`, **bold**, *emphasis*.
fn inline(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (marker, tag) = if rest.starts_with('`') {
            ("`", "code")
        } else if rest.starts_with("**") {
            ("**", "strong")
        } else if rest.starts_with('*') && !rest.starts_with("* ") {
            ("*", "em")
        } else {
            let next = rest
                .find(['`', '*'])
                .filter(|&n| n > 0)
                .unwrap_or(if rest.starts_with(['`', '*']) { 1 } else { rest.len() });
            out.push_str(&esc(&rest[..next]));
            rest = &rest[next..];
            continue;
        };
        match rest[marker.len()..].find(marker) {
            Some(end) => {
                let inner = &rest[marker.len()..marker.len() + end];
                let inner = if tag == "code" { esc(inner) } else { inline(inner) };
                let _ = write!(out, "<{tag}>{inner}</{tag}>");
                rest = &rest[2 * marker.len() + end..];
            }
            None => {
                out.push_str(&esc(marker));
                rest = &rest[marker.len()..];
            }
        }
    }
    out
}

/// Renders the Markdown of a summary: headings, paragraphs, lists, fenced code, tables
/// (sortable) and figures, which `figure(file, alt)` turns into HTML.
fn markdown(md: &str, out: &mut String, figure: &dyn Fn(&str, &str) -> String) {
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    let mut para: Vec<&str> = Vec::new();
    let flush = |para: &mut Vec<&str>, out: &mut String| {
        if !para.is_empty() {
            let _ = writeln!(out, "<p>{}</p>", inline(&para.join(" ")));
            para.clear();
        }
    };
    while i < lines.len() {
        let line = lines[i];
        if let Some(lang) = line.strip_prefix("```") {
            flush(&mut para, out);
            let _ = write!(out, "<pre><code class=\"{}\">", esc(lang));
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                let _ = writeln!(out, "{}", esc(lines[i]));
                i += 1;
            }
            out.push_str("</code></pre>\n");
        } else if let Some(h) = line.strip_prefix("### ") {
            flush(&mut para, out);
            let _ = writeln!(out, "<h3>{}</h3>", inline(h));
        } else if let Some(h) = line.strip_prefix("## ") {
            flush(&mut para, out);
            let _ = writeln!(out, "<h2>{}</h2>", inline(h));
        } else if let Some(h) = line.strip_prefix("# ") {
            flush(&mut para, out);
            let _ = writeln!(out, "<h1>{}</h1>", inline(h));
        } else if line.starts_with('|') {
            flush(&mut para, out);
            let start = i;
            while i < lines.len() && lines[i].starts_with('|') {
                i += 1;
            }
            table(&lines[start..i], out);
            continue;
        } else if line.starts_with("- ") {
            flush(&mut para, out);
            out.push_str("<ul>\n");
            while i < lines.len() && lines[i].starts_with("- ") {
                let _ = writeln!(out, "<li>{}</li>", inline(&lines[i][2..]));
                i += 1;
            }
            out.push_str("</ul>\n");
            continue;
        } else if let Some((alt, file)) = image(line) {
            flush(&mut para, out);
            out.push_str(&figure(file, alt));
        } else if line.trim().is_empty() {
            flush(&mut para, out);
        } else {
            para.push(line);
        }
        i += 1;
    }
    flush(&mut para, out);
}

/// `![alt](file)` alone on a line.
fn image(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim().strip_prefix("![")?;
    let (alt, rest) = rest.split_once("](")?;
    let file = rest.strip_suffix(')')?;
    Some((alt, file))
}

fn cells(line: &str) -> Vec<&str> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(str::trim).collect()
}

/// A Markdown table; a table with an empty header row is a key–value list.
fn table(lines: &[&str], out: &mut String) {
    let header = cells(lines[0]);
    let body = lines.iter().skip(2);
    let sortable = header.iter().any(|h| !h.is_empty());
    let _ = write!(out, "<table{}>", if sortable { " class=\"sortable\"" } else { "" });
    if sortable {
        out.push_str("<thead><tr>");
        for h in &header {
            let _ = write!(out, "<th>{}</th>", inline(h));
        }
        out.push_str("</tr></thead>");
    }
    out.push_str("\n<tbody>\n");
    for l in body {
        out.push_str("<tr>");
        for c in cells(l) {
            let _ = write!(out, "<td>{}</td>", inline(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_the_summary_subset() {
        let md = "# Title *x*\n\n### Sub\n\nSome `code` and **bold**\ntext.\n\n| a | b |\n|---|---|\n| 1 | x<y |\n\n- one\n- two\n\n```sh\nrm -rf \"&\"\n```\n\n![alt text](fig.png)\n";
        let mut out = String::new();
        markdown(md, &mut out, &|file, alt| format!("[{file}|{alt}]\n"));
        assert_eq!(
            out,
            "<h1>Title <em>x</em></h1>\n<h3>Sub</h3>\n<p>Some <code>code</code> and <strong>bold</strong> text.</p>\n\
             <table class=\"sortable\"><thead><tr><th>a</th><th>b</th></tr></thead>\n<tbody>\n<tr><td>1</td><td>x&lt;y</td></tr>\n</tbody></table>\n\
             <ul>\n<li>one</li>\n<li>two</li>\n</ul>\n<pre><code class=\"sh\">rm -rf &quot;&amp;&quot;\n</code></pre>\n[fig.png|alt text]\n"
        );
    }

    #[test]
    fn a_log_scale_puts_zero_half_a_decade_below_its_decades() {
        let s = Scale::new([0.0, 0.5, 20.0].into_iter(), true, 0.0, 350.0);
        assert_eq!((s.lo, s.hi, s.zero), (-1.0, 2.0, true));
        // 3.5 decades over 350 px: 100 px a decade, "0" at 0, 0.1 at 50.
        assert_eq!(s.px(0.0), 0.0);
        assert!((s.px(0.1) - 50.0).abs() < 1e-9);
        assert!((s.px(100.0) - 350.0).abs() < 1e-9);
        let labels: Vec<String> = s.ticks().into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["0", "0.1", "1", "10", "100"]);
    }

    #[test]
    fn unpaired_markers_and_multibyte_text_survive() {
        assert_eq!(inline("a*b ¹ ²"), "a*b ¹ ²");
        assert_eq!(inline("η = 10 ms, `x"), "η = 10 ms, `x");
    }
}
