use coroutine_runtime::*;

#[derive(Clone)]
struct Counter {
    executor: ThreadPoolExecutor,
    count: u32,
}

impl Counter {
    #[run_on_executor]
    fn bump(&mut self) -> u32 {
        self.count += 1;
        self.count
    }
}

fn main() {}
