use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn in_closure_in_macro() -> String {
    let describe = || format!("got {}", yield_!(async { 1 }));
    describe()
}

fn main() {}
