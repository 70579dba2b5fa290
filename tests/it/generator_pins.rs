//! The generator's output for fixed seeds, pinned by the sha256 of its bytes: a new
//! version of `rand`, `rand_distr` or `rand_chacha`, or any change to a generator, shows
//! up here as a failing test instead of a silent change of every published number.
//!
//! When a change is intended, regenerate the reports (`scripts/regenerate-reports.sh`),
//! say so in the commit, and update the pins below with the printed hashes.

use assert_cmd::Command;
use sha2::{Digest, Sha256};

fn sha256_of_generate(args: &[&str]) -> String {
    let out = Command::cargo_bin("fdbench")
        .unwrap()
        .arg("generate")
        .args(args)
        .args(["-o", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Sha256::digest(&out.stdout).iter().map(|b| format!("{b:02x}")).collect()
}

fn check(cases: &[(&[&str], &str)]) {
    let changed: Vec<String> = cases
        .iter()
        .filter_map(|(args, want)| {
            let got = sha256_of_generate(args);
            (got != *want).then(|| format!("generate {}: sha256 {got}, pinned {want}", args.join(" ")))
        })
        .collect();
    assert!(
        changed.is_empty(),
        "the generator's output changed for fixed seeds:\n{}",
        changed.join("\n")
    );
}

#[test]
fn every_preset_gives_the_pinned_bytes() {
    check(&[
        (
            &["--preset", "lan", "--duration", "2h", "--seed", "7"],
            "42624923e3201ea8734cf8f567c1c9adc5c5c99a9098920ccba039183df498d1",
        ),
        (
            &["--preset", "wan", "--duration", "2h", "--seed", "7"],
            "f71bd9463b52c19ad6cf0ea32e877356fc3390b033263879536e9bba7b80ff58",
        ),
        (
            &["--preset", "cloud", "--duration", "2h", "--seed", "7"],
            "0523af6076e0ed257383a2fab579d6771bd88e9f5bc6cfb7df503b52aa1a12b1",
        ),
        (
            &["--preset", "gc", "--duration", "2h", "--seed", "7"],
            "0d311a06d25734c19426db8b49786a8d3bfc4c92646214bc179581b192b4f913",
        ),
        (
            &["--preset", "flaky", "--duration", "2h", "--seed", "7"],
            "35aabe8d6f11323aef3403921ff9187d662881c4f78c1e4dc54b71e982ed48ac",
        ),
    ]);
}

#[test]
fn every_delay_distribution_gives_the_pinned_bytes() {
    let cases = [
        (
            "normal:mean=20ms,std=5ms",
            "8118a1ca0398d54787c7d50c2cfa3bd96cdf4e751c09c84ed283d8a4c958cdf9",
        ),
        (
            "exp:mean=5ms",
            "97da9846fb2e1bfc6f6d963858f809cb6eae251f2ad14593c3756d1dd013d90b",
        ),
        (
            "gamma:mean=5ms,shape=2",
            "a78977faa4cd95e57216e13e8aa901f9f0d7a46bc3ef68d8186b740774f3251d",
        ),
        (
            "gamma:mean=5ms,shape=0.5",
            "9eed654bef5d848b66c20af9d9bebbcf8fc3ca280e4274190a8be7126ebdcea3",
        ),
        (
            "pareto:min=1ms,alpha=2.5",
            "5e9db98cd862e26a60dbd7bf8776ca120e887c32209254ca1bda5aa2c8163542",
        ),
        (
            "weibull:scale=5ms,shape=1.5",
            "1763817df52c04c851e8cea6677617d97bf9b72ea76eb8f2a722c6420b035b98",
        ),
        (
            "uniform:min=1ms,max=9ms",
            "e5e339c77d48f04a9f5321d70122be15c418a0d92a19d87af2f278e5195d1423",
        ),
        (
            "lognormal:median=20ms,sigma=0.5",
            "406368c256c503b70bc421b5e52aeaec9d07e67fe9868d25c7039aa084eac743",
        ),
    ];
    let args: Vec<[&str; 8]> = cases
        .iter()
        .map(|(d, _)| {
            [
                "--count",
                "20000",
                "--seed",
                "11",
                "--delay",
                d,
                "--loss",
                "bernoulli:rate=0.01",
            ]
        })
        .collect();
    let pins: Vec<(&[&str], &str)> = args.iter().zip(&cases).map(|(a, (_, h))| (&a[..], *h)).collect();
    check(&pins);
}

/// The trace behind `reports/default`, whose manifest records the same hash.
#[test]
fn the_default_reports_trace_gives_the_hash_in_its_manifest() {
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/reports/default/manifest.json")).unwrap(),
    )
    .unwrap();
    let pinned = "f1cb1081120f1a5cbc949b190256887be495240d970eaaebf00106d4f28a6021";
    assert_eq!(
        manifest["trace_sha256"], pinned,
        "reports/default was made from another trace"
    );
    check(&[(&["--preset", "wan", "--duration", "6h", "--seed", "1"], pinned)]);
}
