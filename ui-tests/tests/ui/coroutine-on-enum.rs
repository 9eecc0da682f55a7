#[coroutine_runtime::coroutine]
enum NotAFn {
    A,
    B,
}

fn main() {}
