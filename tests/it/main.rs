//! The integration tests, one module per theme, in one binary (`cargo test --test it`;
//! `cargo test --test it -- NAME::` runs one module).

mod common;
mod util;

mod array_shards;
mod cluster_cli;
mod documented_commands;
mod engine_props;
mod explain;
mod faults;
mod generate;
mod generator_pins;
mod golden_cli;
mod html_report;
mod import;
mod list;
mod nfd_s;
mod pcap_capture;
mod plot;
mod record;
mod replay_golden;
mod report_cli;
mod report_fit;
mod report_golden;
mod resample;
mod robustness;
mod slurm;
mod stats;
mod sweep_cli;
mod verdict;
