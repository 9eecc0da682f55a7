//! Writes the deeply nested coroutines of `tests/deep_nesting.rs` (issue 14): too large to keep
//! in the repository by hand, and made the same way on every build.

use std::fmt::Write as _;
use std::path::PathBuf;

/// How deep the nested blocks and parentheses go.
const DEPTH: usize = 500;
/// How many terms the long `a + 1 + 1 …` chain has.
const TERMS: usize = 5_000;

fn main() {
    let mut code = String::new();
    let blocks = format!(
        "{}yield_!(ready(1_u32)){}",
        "{ ".repeat(DEPTH),
        " }".repeat(DEPTH)
    );
    let parens = format!(
        "{}yield_!(ready(2_u32)){}",
        "(".repeat(DEPTH),
        ")".repeat(DEPTH)
    );
    let chain = format!("a{}", " + 1".repeat(TERMS - 1));
    for (name, body) in [("blocks", &blocks), ("parens", &parens)] {
        writeln!(
            code,
            "#[coroutine_runtime::coroutine]\nfn nested_{name}() -> u32 {{\n    {body}\n}}\n"
        )
        .unwrap();
    }
    writeln!(
        code,
        "#[coroutine_runtime::coroutine]\nfn long_chain() -> u32 {{\n    let a: u32 = yield_!(ready(0));\n    {chain}\n}}\n"
    )
    .unwrap();
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("deep_nesting.rs"), code).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
