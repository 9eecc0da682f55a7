use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn yields_a_string() -> String {
    yield_!(String::from("not a future"))
}

fn main() {}
