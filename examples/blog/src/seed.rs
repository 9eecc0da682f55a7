//! The sample posts a new database starts with.

/// A sample post.
pub(crate) struct SamplePost {
    /// The post's address.
    pub(crate) slug: &'static str,
    /// The title.
    pub(crate) title: &'static str,
    /// The category's name.
    pub(crate) category: &'static str,
    /// When it was published, in the database's date format.
    pub(crate) pub_date: &'static str,
    /// The text, paragraphs separated by blank lines.
    pub(crate) body: &'static str,
}

/// A dozen posts in four categories, oldest first.
pub(crate) const SAMPLE_POSTS: [SamplePost; 12] = [
    SamplePost {
        slug: "hello-motor-blog",
        title: "Hello, Motor-Blog",
        category: "Meta",
        pub_date: "2024-01-08 09:00:00.000",
        body: "This blog is a small program that stores its posts in a database and renders \
               them through templates. Every page you read was assembled by a handful of \
               queries.\n\nThe posts that follow walk through how those queries are written.",
    },
    SamplePost {
        slug: "futures-are-nothing-special",
        title: "Futures are nothing special",
        category: "Coroutines",
        pub_date: "2024-01-22 14:30:00.000",
        body: "A future is a little object that stands for a value that is not there yet. \
               Some time later the value arrives, or an error does.\n\nWaiting for it is the \
               whole trick: a coroutine yields the future and is resumed with its result.",
    },
    SamplePost {
        slug: "one-post-one-query",
        title: "One post, one query",
        category: "Databases",
        pub_date: "2024-02-05 10:15:00.000",
        body: "Showing a post starts with finding it: one query by slug. If nothing matches, \
               the answer is a 404 page.\n\nWritten as a coroutine, the handler reads from top \
               to bottom like blocking code.",
    },
    SamplePost {
        slug: "callbacks-considered-tiring",
        title: "Callbacks considered tiring",
        category: "Coroutines",
        pub_date: "2024-02-19 16:45:00.000",
        body: "With callbacks, every query splits the handler in two, and two parallel queries \
               need bookkeeping to know which one finished last.\n\nNone of that bookkeeping \
               can be factored out. Coroutines make it disappear.",
    },
    SamplePost {
        slug: "previous-and-next",
        title: "Previous and next, in parallel",
        category: "Coroutines",
        pub_date: "2024-03-04 08:20:00.000",
        body: "The links at the bottom of a post need two independent queries: the post \
               published just before and the one just after.\n\nYield both futures together \
               and the coroutine resumes once both have answered.",
    },
    SamplePost {
        slug: "caching-the-categories",
        title: "Caching the categories",
        category: "Databases",
        pub_date: "2024-03-18 12:00:00.000",
        body: "Every page shows the category list, which rarely changes. A subroutine fetches \
               it once and keeps it.\n\nWhen a post arrives with a new category, the cache is \
               dropped and the next page fetches the list again.",
    },
    SamplePost {
        slug: "subroutines-are-coroutines-too",
        title: "Subroutines are coroutines too",
        category: "Coroutines",
        pub_date: "2024-04-01 09:40:00.000",
        body: "Factoring shared code out of a handler is easy: make the subroutine a coroutine \
               and yield its result from the caller.\n\nIt is almost like a regular function \
               call.",
    },
    SamplePost {
        slug: "blocking-calls-in-a-thread-pool",
        title: "Blocking calls in a thread pool",
        category: "Databases",
        pub_date: "2024-04-15 15:10:00.000",
        body: "Not every library is asynchronous. A thread pool runs blocking calls on its own \
               threads and hands back futures.\n\nThe event loop keeps serving while the \
               database works.",
    },
    SamplePost {
        slug: "escaping-everything",
        title: "Escaping everything",
        category: "Meta",
        pub_date: "2024-05-06 11:25:00.000",
        body: "Titles and bodies come from people, so the templates escape them: a <script> \
               tag in a post is shown, not run.\n\nThe queries take their values as \
               parameters, never as pasted SQL.",
    },
    SamplePost {
        slug: "errors-become-pages",
        title: "Errors become pages",
        category: "Meta",
        pub_date: "2024-05-20 17:05:00.000",
        body: "A query that fails raises an error at the yield, and the handler turns it into \
               a 500 page.\n\nThe server goes on serving everybody else.",
    },
    SamplePost {
        slug: "returning-values",
        title: "Returning values",
        category: "Rust",
        pub_date: "2024-06-03 13:50:00.000",
        body: "Old generators could not return a value, so coroutines raised a special \
               exception instead.\n\nIn Rust a coroutine simply returns its result.",
    },
    SamplePost {
        slug: "one-executor-many-coroutines",
        title: "One executor, many coroutines",
        category: "Rust",
        pub_date: "2024-06-17 10:30:00.000",
        body: "A web server runs thousands of handlers at once on a few threads. Each handler \
               is a coroutine, suspended at a yield most of the time.\n\nThat is what makes \
               the code efficient, clean, even beautiful.",
    },
];
