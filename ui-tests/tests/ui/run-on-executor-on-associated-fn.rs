use coroutine_runtime::*;

#[derive(Clone)]
struct Service {
    executor: ThreadPoolExecutor,
}

impl Service {
    #[run_on_executor]
    fn create() -> u32 {
        1
    }
}

fn main() {
    let _: u32 = Service::create();
}
