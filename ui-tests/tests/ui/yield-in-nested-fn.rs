use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn outer() -> u32 {
    fn helper() -> u32 {
        yield_!(async { 1 })
    }
    helper()
}

fn main() {}
