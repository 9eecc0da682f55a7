use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_called_closure_in_macro() -> Vec<u32> {
    vec![(|| yield_!(async { 1 }))()]
}

fn main() {}
