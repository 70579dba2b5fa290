//! Helpers shared by the integration tests (`mod common;` in each file that uses them).

/// Reports a test that cannot run here as skipped, on stderr, naming what is missing and
/// how to get it; under `FDBENCH_REQUIRE_ALL=1` (set by `.ci/run`) it fails instead,
/// unless `.ci/run` could not install the component and lists it in `FDBENCH_MISSING`
/// (comma-separated).
pub fn skip(component: &str, why: &str) {
    let required = std::env::var("FDBENCH_REQUIRE_ALL").is_ok_and(|v| v == "1");
    let missing = std::env::var("FDBENCH_MISSING").unwrap_or_default();
    if required && !missing.split(',').any(|m| m.trim() == component) {
        panic!("FDBENCH_REQUIRE_ALL=1 and {component} is not listed in FDBENCH_MISSING, yet {why}");
    }
    eprintln!("SKIPPED: {why}");
}
