#[coroutine_runtime::coroutine]
struct NotAFn {
    field: u32,
}

fn main() {}
