use coroutine_runtime::*;
use std::rc::Rc;

#[coroutine_runtime::coroutine]
fn holds_rc() -> u32 {
    let local = Rc::new(1);
    yield_!(moment);
    *local
}

fn require_send<T: Send>(value: T) -> T {
    value
}

fn main() {
    let _ = require_send(holds_rc());
}
