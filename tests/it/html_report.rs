//! `index.html` opened in a real browser: headless Chromium loads the page of a report,
//! a probe script checks that it renders without errors, that its plots and tables are
//! there, that hovering a point shows its tooltip and that a click sorts a table, and
//! a screenshot of the page with the tooltip showing is kept in
//! `target/tmp/html_report/index.png`.
//!
//! Without Chromium (Debian's `chromium`, or the binary named by `FDBENCH_CHROMIUM`)
//! the browser part is skipped with a message; `.ci/run` installs it, and under
//! `FDBENCH_REQUIRE_ALL=1` its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Installed before the page's own script: collects errors, console errors and any
/// request the content security policy blocks.
const PROBE_HEAD: &str = r#"<script>
window.__errors=[];
window.addEventListener('error',function(e){window.__errors.push('error: '+e.message);},true);
document.addEventListener('securitypolicyviolation',function(e){window.__errors.push('blocked: '+e.blockedURI+' '+e.violatedDirective);});
(function(){var o=console.error;console.error=function(){window.__errors.push('console.error: '+Array.prototype.join.call(arguments,' '));o.apply(console,arguments);};})();
</script>"#;

/// Run after the page's script: hovers the first tuned point of the detection-time
/// chart, sorts the results table by mean detection time, and writes what it saw as
/// JSON into `<pre id="probe">`.
const PROBE_TAIL: &str = r#"<script>
(function(){
  var r={errors:window.__errors};
  r.svgs=document.querySelectorAll('svg').length;
  r.charts=document.querySelectorAll('figure.chart').length;
  r.points=document.querySelectorAll('.pt').length;
  r.tables=document.querySelectorAll('table.sortable').length;
  var pt=document.querySelector('#chart-qos .pt[data-tip*="(tuned)"]');
  pt.scrollIntoView({block:"center"});
  var b=pt.getBoundingClientRect();r.pt_y=b.y;r.inner_h=innerHeight;
  pt.dispatchEvent(new MouseEvent('mouseover',{bubbles:true,clientX:b.x+b.width/2,clientY:b.y+b.height/2}));
  var tip=document.getElementById('tip');
  r.tip_visible=!tip.hidden&&tip.offsetWidth>0;
  r.tip=tip.textContent;
  r.expected_tip=pt.getAttribute('data-tip');
  var t=document.querySelector('table.sortable.results');
  var ths=t.querySelectorAll('thead th');var col=-1;
  for(var i=0;i<ths.length;i++)if(ths[i].textContent==='T_D mean ms')col=i;
  ths[col].click();
  r.sorted=Array.prototype.map.call(t.tBodies[0].rows,function(row){return row.cells[col].textContent;});
  r.sort_state=ths[col].getAttribute('aria-sort');
  var pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify(r);document.body.appendChild(pre);
})();
</script>"#;

/// A tall window; the probe also scrolls the hovered point into view.
const WINDOW: &str = "--window-size=1280,6000";

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("FDBENCH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser", "google-chrome"].map(|n| d.join(n)))
        .find(|p| p.is_file())
}

fn headless(chromium: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chromium);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        "--timeout=60000",
        WINDOW,
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

fn key(cell: &str) -> f64 {
    if cell == "never" {
        f64::INFINITY
    } else {
        cell.parse().unwrap()
    }
}

#[test]
fn index_html_renders_hovers_and_sorts_in_a_real_browser() {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html_report");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let dir = out.join("report");
    assert_cmd::Command::cargo_bin("fdbench")
        .unwrap()
        .args([
            "report",
            "--preset",
            "lan",
            "--duration",
            "10m",
            "--seed",
            "3",
            "-q",
            "-o",
        ])
        .arg(&dir)
        .assert()
        .success();
    let page = std::fs::read_to_string(dir.join("index.html")).unwrap();
    // Self-contained: no address but the SVG namespace, nothing loaded from elsewhere.
    let stripped = page.replace("http://www.w3.org/2000/svg", "");
    for needle in ["http://", "https://", "<link", "src=", "@import", "url("] {
        assert!(!stripped.contains(needle), "index.html contains {needle}");
    }
    assert!(page.contains("Content-Security-Policy\" content=\"default-src 'none'"));

    let Some(chromium) = chromium() else {
        crate::common::skip(
            "chromium",
            "the browser check of index.html needs chromium on PATH (apt-get install chromium, or set FDBENCH_CHROMIUM)",
        );
        return;
    };
    let i = page.find("<head>").unwrap() + "<head>".len();
    let j = page.rfind("</body>").unwrap();
    let probe = format!("{}{PROBE_HEAD}{}{PROBE_TAIL}{}", &page[..i], &page[i..j], &page[j..]);
    let probe_path = dir.join("probe.html");
    std::fs::write(&probe_path, probe).unwrap();
    let url = format!("file://{}", probe_path.canonicalize().unwrap().display());

    let dumped = headless(&chromium, &out.join("profile-dom"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dumped.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dumped.stderr)
    );
    let dom = String::from_utf8(dumped.stdout).unwrap();
    let start = dom.find("<pre id=\"probe\">").expect("the probe did not run") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").unwrap();
    let r: serde_json::Value = serde_json::from_str(&unescape(&dom[start..end])).unwrap();

    assert_eq!(r["errors"], serde_json::json!([]), "the page logged errors");
    // The six images of summary.md: four SVG figures inlined (inter-arrival, timeline,
    // akka's pause frontier, Figure 1.3) and the two interactive charts.
    let summary = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert_eq!(summary.matches("![").count(), 6);
    assert_eq!(r["svgs"], 6, "plots missing");
    assert_eq!(page.matches("<svg").count(), 6);
    assert_eq!(r["charts"], 2);
    let rows = std::fs::read_to_string(dir.join("results.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    // Each chart draws every results row (all of them have a finite mistake rate, T_D
    // and completeness on this trace) and one larger marker per tuned detector: fixed,
    // nfd-s, chen, phi, akka, exp-phi and 2w, 7 per chart.
    let tuned = page.matches(" (tuned)").count();
    assert_eq!(tuned, 14, "tuned markers");
    assert_eq!(r["points"], 2 * rows + tuned, "{} points for {rows} rows", r["points"]);
    assert_eq!(page.matches(" class=\"pt\"").count(), 2 * rows + tuned);
    // The results table and the summary's nine tables with a header row.
    assert_eq!(r["tables"], 10);
    assert_eq!(page.matches("<table class=\"sortable").count(), 10);

    assert_eq!(r["tip_visible"], true, "no tooltip on hover");
    assert_eq!(r["tip"], r["expected_tip"]);
    let tip = r["tip"].as_str().unwrap();
    assert!(tip.starts_with("fixed (tuned)\ntimeout="), "{tip}");
    assert!(
        tip.contains(" ms\nmistakes ") && tip.contains("completeness within D = 200 ms"),
        "{tip}"
    );
    assert!(
        r["pt_y"].as_f64().unwrap() < r["inner_h"].as_f64().unwrap(),
        "the hovered point is out of view"
    );

    assert_eq!(r["sort_state"], "ascending");
    let sorted: Vec<f64> = r["sorted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| key(v.as_str().unwrap()))
        .collect();
    assert_eq!(sorted.len(), rows);
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "not sorted by mean detection time"
    );
    assert!(sorted[0] < sorted[rows - 1]);

    let shot = out.join("index.png");
    let status = headless(&chromium, &out.join("profile-shot"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(status.status.success());
    assert!(std::fs::metadata(&shot).unwrap().len() > 50_000, "blank screenshot");
    eprintln!("screenshot of index.html with the tooltip showing: {}", shot.display());
}

#[test]
fn index_html_is_the_same_bytes_for_one_thread_or_two() {
    let tmp = tempfile::tempdir().unwrap();
    let page = |threads: &str| {
        let dir = tmp.path().join(threads);
        assert_cmd::Command::cargo_bin("fdbench")
            .unwrap()
            .args([
                "report",
                "--preset",
                "gc",
                "--duration",
                "20m",
                "-q",
                "-j",
                threads,
                "-o",
            ])
            .arg(&dir)
            .assert()
            .success();
        std::fs::read(dir.join("index.html")).unwrap()
    };
    assert!(page("1") == page("2"), "index.html differs between 1 and 2 threads");
}
