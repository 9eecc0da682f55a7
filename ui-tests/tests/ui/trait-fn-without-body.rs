trait Fetch {
    #[coroutine_runtime::coroutine]
    fn fetch(&self) -> u32;
}

struct Client;

impl Fetch for Client {
    #[coroutine_runtime::coroutine]
    fn fetch(&self) -> u32 {
        1
    }
}

fn main() {
    let n: u32 = futures::executor::block_on(Client.fetch());
    assert_eq!(n, 1);
}
