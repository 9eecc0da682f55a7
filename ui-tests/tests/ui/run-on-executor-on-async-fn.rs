use coroutine_runtime::*;

#[derive(Clone)]
struct Service {
    executor: ThreadPoolExecutor,
}

impl Service {
    #[run_on_executor]
    async fn load(&self) -> u32 {
        1
    }
}

fn main() {
    let service = Service { executor: ThreadPoolExecutor::new(1) };
    let _: u32 = futures::executor::block_on(service.load());
}
