use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn yields_an_integer() -> i32 {
    yield_!(42_i32)
}

fn main() {}
