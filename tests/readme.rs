//! The README's quick start, verbatim: its second-terminal block runs
//! against a freshly started `oms` (on a free port and a data directory of
//! its own; `cargo run -q --` stands for the binary under test), and what
//! it prints is exactly the `#=>` lines the README shows.

mod common;

use std::process::Command;

/// The `n`th `sh` block (from 1) of the README's section `## {title}`.
fn block(title: &str, n: usize) -> String {
    let readme = include_str!("../README.md");
    let section = readme
        .split(&format!("\n## {title}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("a section {title}"));
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .split("```sh\n")
        .nth(n)
        .and_then(|b| b.split("\n```").next())
        .unwrap_or_else(|| panic!("sh block {n} of {title}"))
        .to_owned()
}

#[test]
fn the_quick_start_runs_verbatim_and_prints_what_it_shows() {
    runs_verbatim("quick", &block("Quick start", 2));
}

#[test]
fn the_priced_example_runs_verbatim_and_prints_what_it_shows() {
    runs_verbatim("priced", &block("A priced order", 1));
}

#[test]
fn the_sourcing_example_runs_verbatim_and_prints_what_it_shows() {
    runs_verbatim(
        "sourcing",
        &block("Sourcing: stores, pickups, backorders", 1),
    );
}

/// Runs `block` against a fresh `oms` and checks it prints its `#=>` lines.
fn runs_verbatim(tag: &str, block: &str) {
    let expected: Vec<&str> = block
        .lines()
        .filter_map(|l| l.strip_prefix("#=> "))
        .collect();
    assert!(expected.len() >= 5, "the block shows its outputs");

    let dir = std::env::temp_dir().join(format!("oms-readme-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin")).expect("dir");
    let bin = env!("CARGO_BIN_EXE_oms");
    // `cargo run -q -- ARGS` in the block runs the binary under test.
    let shim = dir.join("bin/cargo");
    std::fs::write(
        &shim,
        format!("#!/bin/sh\n[ \"$1 $2 $3\" = \"run -q --\" ] && shift 3\nexec {bin} \"$@\"\n"),
    )
    .expect("shim");
    Command::new("chmod")
        .arg("+x")
        .arg(&shim)
        .status()
        .expect("chmod");

    let data = dir.join("data");
    let server = common::Process::start(&["--data-dir", data.to_str().expect("path")]);
    let url = server.url.clone();

    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", block])
        .env("PATH", path)
        .env("OMS_URL", &url)
        .env("OMS_DATA_DIR", &data)
        .output()
        .expect("bash runs");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the block failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        printed,
        expected,
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
