use coroutine_runtime::*;

struct Service {
    executor: ThreadPoolExecutor,
}

impl Service {
    #[run_on_executor]
    fn load(&self) -> u32 {
        1
    }
}

fn main() {}
