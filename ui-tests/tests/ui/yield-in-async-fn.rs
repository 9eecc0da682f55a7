use coroutine_runtime::*;

async fn not_a_coroutine() -> u32 {
    yield_!(async { 1 })
}

fn main() {}
