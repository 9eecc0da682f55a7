//! The nightly form: a bare `yield expr` inside `#[coroutine_runtime::coroutine]`.
//!
//! rustc checks that `yield` syntax is enabled while it parses the item, before the attribute
//! macro gets to rewrite it, so only a crate with `#![feature(coroutines)]` may write it. That
//! crate is `nightly-tests/`, outside the workspace so that stable builds never see the feature
//! gate. This test builds and runs its tests with `RUSTC_BOOTSTRAP=1`, which lets the stable
//! toolchain accept `#![feature(...)]`: no nightly toolchain is needed, and the macros are tested
//! by the same compiler as everything else.

use std::path::Path;
use std::process::Command;

/// Runs `cargo test` in `nightly-tests/` and asserts that it passes.
#[test]
fn bare_yield_works_with_the_nightly_coroutines_feature() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate lives in the workspace root");
    let manifest = root.join("nightly-tests").join("Cargo.toml");
    // A target directory of its own, inside this build's: the feature flag and
    // `RUSTC_BOOTSTRAP` change every fingerprint, so sharing one would rebuild both sides.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nightly-tests");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .arg("test")
        .arg("--manifest-path")
        .arg(&manifest)
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`cargo test` in nightly-tests failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    // The run did test something: the four bare-yield tests passed.
    assert!(
        stdout.contains("test result: ok. 4 passed"),
        "expected the four bare-yield tests to pass\n--- stdout\n{stdout}"
    );
}
