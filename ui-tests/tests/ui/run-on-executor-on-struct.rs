use coroutine_runtime::*;

#[run_on_executor]
struct Service {
    executor: ThreadPoolExecutor,
}

fn main() {}
