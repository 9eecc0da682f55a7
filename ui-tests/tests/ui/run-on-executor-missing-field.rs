use coroutine_runtime::*;

#[derive(Clone)]
struct Service {
    pool: ThreadPoolExecutor,
}

impl Service {
    #[run_on_executor]
    fn load(&self) -> u32 {
        1
    }

    #[run_on_executor(executor = workers)]
    fn store(&self) -> u32 {
        2
    }
}

fn main() {}
