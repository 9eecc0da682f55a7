use coroutine_runtime::*;

fn not_a_coroutine() -> u32 {
    yield_!(async { 1 })
}

fn main() {}
