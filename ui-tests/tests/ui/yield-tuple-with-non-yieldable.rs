use coroutine_runtime::*;

#[coroutine_runtime::coroutine]
fn yields_a_tuple_with_a_string() -> (u32, String) {
    yield_!((std::future::ready(1_u32), String::from("not a future")))
}

fn main() {}
