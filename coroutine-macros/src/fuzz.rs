//! Fuzzing of the expansion functions (issue 14), called as a library through proc-macro2, so
//! no rustc is needed: random token streams, and random but plausible fns whose bodies put
//! yields in every expression position, inside closures, `async` blocks, constants and other
//! macros' arguments, nested deeply. Whatever the input, the macros must not panic, and what
//! they emit must parse as items (the user's item, maybe with `compile_error!`s).
//!
//! CI runs proptest's default of 256 cases per property. A longer run is one command:
//!
//! ```text
//! PROPTEST_CASES=20000 cargo test --release -p coroutine-macros fuzz
//! ```

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;

use crate::{expand, on_big_stack, run_on_executor};

/// Whether `tokens` parse as a file of items. Parsed on a big stack too: the output of a deeply
/// nested input is as deep as the input.
fn parses_as_items(tokens: TokenStream) -> Result<(), String> {
    on_big_stack(|| {
        let text = tokens.to_string();
        syn::parse2::<syn::File>(tokens)
            .map(drop)
            .map_err(|error| format!("{error}: {text}"))
    })
}

/// Whether `tokens` parse as one item.
fn is_item(tokens: &TokenStream) -> bool {
    on_big_stack(|| syn::parse2::<syn::Item>(tokens.clone()).is_ok())
}

/// Runs every expansion function on `args` and `item`, checking their output. The attribute
/// macros get a parsable item, as rustc only hands them items.
fn check_expansions(args: &TokenStream, item: &TokenStream) -> Result<(), TestCaseError> {
    let many = on_big_stack(|| expand::coroutines(item.clone()));
    parses_as_items(many).map_err(TestCaseError::fail)?;
    if is_item(item) {
        let one = on_big_stack(|| expand::coroutine(args.clone(), item.clone()));
        parses_as_items(one).map_err(TestCaseError::fail)?;
        let pooled = on_big_stack(|| run_on_executor::run_on_executor(args.clone(), item.clone()));
        parses_as_items(pooled).map_err(TestCaseError::fail)?;
    }
    Ok(())
}

/// One random token: words the macros look for, punctuation, literals.
fn token() -> impl Strategy<Value = TokenTree> {
    const WORDS: &[&str] = &[
        "fn",
        "async",
        "move",
        "yield_",
        "yield",
        "let",
        "match",
        "if",
        "else",
        "const",
        "loop",
        "return",
        "Return",
        "self",
        "Self",
        "impl",
        "unsafe",
        "coroutine",
        "coroutines",
        "lazy",
        "crate",
        "x",
        "f",
        "u32",
        "mut",
        "ref",
        "where",
        "for",
        "static",
        "dyn",
        "pub",
        "__coroutine_yield",
        "executor",
    ];
    const PUNCT: &[char] = &[
        '!', ',', ';', ':', '=', '|', '&', '+', '-', '*', '.', '#', '<', '>', '?', '@', '\'', '^',
    ];
    prop_oneof![
        4 => prop::sample::select(WORDS)
            .prop_map(|word| TokenTree::Ident(Ident::new(word, Span::call_site()))),
        3 => (prop::sample::select(PUNCT), any::<bool>()).prop_map(|(c, joint)| {
            let spacing = if joint { Spacing::Joint } else { Spacing::Alone };
            TokenTree::Punct(Punct::new(c, spacing))
        }),
        1 => (0_u32..100).prop_map(|n| TokenTree::Literal(Literal::u32_unsuffixed(n))),
        1 => Just(TokenTree::Literal(Literal::string("{}"))),
    ]
}

/// A random token stream, groups nested a few levels.
fn tokens() -> impl Strategy<Value = TokenStream> {
    let leaf = prop::collection::vec(token(), 0..6).prop_map(TokenStream::from_iter);
    leaf.prop_recursive(6, 128, 6, |inner| {
        prop::collection::vec(
            prop_oneof![
                token().prop_map(TokenStream::from),
                (inner, 0..3_u8).prop_map(|(stream, delimiter)| {
                    let delimiter = match delimiter {
                        0 => Delimiter::Parenthesis,
                        1 => Delimiter::Bracket,
                        _ => Delimiter::Brace,
                    };
                    TokenStream::from(TokenTree::Group(Group::new(delimiter, stream)))
                }),
            ],
            0..6,
        )
        .prop_map(TokenStream::from_iter)
    })
}

/// A random expression, with yields in every position the macro meets.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(
        &[
            "x",
            "1",
            "yield_!(ready(1))",
            "yield_!(moment)",
            "coroutine_runtime::yield_!(f())",
            "(yield ready(2))",
            "yield_!()",
            "yield_!(a b)",
            "yield_!((ready(1), moment))",
            "Return(3)",
            "self.0",
            "return",
            "f()",
        ][..],
    )
    .prop_map(str::to_owned);
    leaf.prop_recursive(8, 96, 4, |inner| {
        let pair = (inner.clone(), inner.clone());
        prop_oneof![
            pair.clone().prop_map(|(a, b)| format!("({a} + {b})")),
            pair.clone().prop_map(|(a, b)| format!("f({a}, {b})")),
            pair.clone().prop_map(|(a, b)| format!("{a}.m({b})")),
            pair.clone()
                .prop_map(|(a, b)| format!("{{ let v = {a}; {b} }}")),
            pair.clone()
                .prop_map(|(a, b)| format!("if {a} {{ {b} }} else {{ {b} }}")),
            pair.clone()
                .prop_map(|(a, b)| format!("match {a} {{ v if {b} => v, _ => {b} }}")),
            pair.clone().prop_map(|(a, b)| format!("(|| {a})({b})")),
            inner.clone().prop_map(|a| format!("(move |v: u32| {a})")),
            inner.clone().prop_map(|a| format!("async {{ {a} }}")),
            inner.clone().prop_map(|a| format!("async move || {a}")),
            pair.clone().prop_map(|(a, b)| format!("vec![{a}, {b}]")),
            pair.clone().prop_map(|(a, b)| format!("vec![{a}; {b}]")),
            pair.clone()
                .prop_map(|(a, b)| format!("format!(\"{{}}{{x}}\", {a}, x = {b})")),
            pair.clone()
                .prop_map(|(a, b)| format!("assert!({a}, \"{{}}\", {b})")),
            pair.clone()
                .prop_map(|(a, b)| format!("odd!({a} => {b}; @ {a})")),
            inner.clone().prop_map(|a| format!("const {{ {a} }}")),
            inner.clone().prop_map(|a| format!("[0; {a}]")),
            inner
                .clone()
                .prop_map(|a| format!("{{ let v: [u8; {a}] = []; v }}")),
            inner.clone().prop_map(|a| format!("g::<{{ {a} }}>()")),
            pair.clone().prop_map(|(a, b)| format!("({a}, {b})")),
            inner.clone().prop_map(|a| format!("loop {{ break {a}; }}")),
            inner.clone().prop_map(|a| format!("return {a}")),
            inner.clone().prop_map(|a| format!("{a}?")),
            inner.clone().prop_map(|a| format!("{a}.await")),
            inner
                .clone()
                .prop_map(|a| format!("{{ fn inner() -> u32 {{ {a} }} inner() }}")),
            inner.clone().prop_map(|a| format!("unsafe {{ {a} }}")),
            inner
                .clone()
                .prop_map(|a| format!("{{ let Some(v) = {a} else {{ return {a} }}; v }}")),
            inner.clone().prop_map(|a| format!(
                "{{ #[coroutine_runtime::coroutine] fn nested() -> u32 {{ {a} }} nested() }}"
            )),
            inner.prop_map(|a| format!("coroutines! {{ fn nested() {{ {a}; }} }}")),
        ]
    })
}

/// A random fn signature's parts: qualifiers, arguments, return type.
fn signature() -> impl Strategy<Value = String> {
    let qualifiers = prop::sample::select(
        &[
            "",
            "",
            "pub ",
            "async ",
            "const ",
            "unsafe ",
            "extern \"C\" ",
        ][..],
    );
    let argument = prop::sample::select(
        &[
            "x: u32",
            "(a, b): (u8, u8)",
            "#[cfg(any())] y: u8",
            "#[cfg(any())] (c, d): (u8, u8)",
            "_: u8",
            "mut z: u8",
            "ref r: u8",
            "Point { x, .. }: Point",
            "#[allow(unused)] w: &str",
        ][..],
    );
    let receiver =
        prop::sample::select(&["", "&self, ", "&mut self, ", "self, ", "self: Box<Self>, "][..]);
    let output = prop::sample::select(
        &[
            "",
            "-> u32",
            "-> !",
            "-> impl Display",
            "-> Result<u32, E>",
            "-> Self",
        ][..],
    );
    let generics = prop::sample::select(&["", "<T>", "<'a, const N: usize>"][..]);
    (
        qualifiers,
        generics,
        receiver,
        prop::collection::vec(argument, 0..4),
        output,
    )
        .prop_map(|(qualifiers, generics, receiver, arguments, output)| {
            format!(
                "{qualifiers}fn f{generics}({receiver}{}) {output}",
                arguments.join(", ")
            )
        })
}

/// Random attribute arguments, mostly valid.
fn attribute_args() -> impl Strategy<Value = TokenStream> {
    prop_oneof![
        4 => prop::sample::select(&["", "lazy", "crate = ::my::rt", "lazy, crate = rt", "executor = pool"][..])
            .prop_map(|args| args.parse().expect("valid tokens")),
        1 => tokens(),
    ]
}

/// The statements of a body around `expression`s.
fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(
        (expression(), 0..3_u8).prop_map(|(e, form)| match form {
            0 => format!("let v = {e};"),
            1 => format!("{e};"),
            _ => format!("if {e} {{ {e}; }}"),
        }),
        0..4,
    )
    .prop_flat_map(|statements| {
        expression().prop_map(move |tail| format!("{} {tail}", statements.join(" ")))
    })
}

proptest! {
    #[test]
    fn random_tokens_never_panic(args in tokens(), item in tokens()) {
        check_expansions(&args, &item)?;
    }

    #[test]
    fn random_tokens_in_a_fn_body_never_panic(args in attribute_args(), body in tokens()) {
        check_expansions(&args, &quote::quote!(fn f() { #body }))?;
    }

    #[test]
    fn plausible_fns_expand_to_items(args in attribute_args(), sig in signature(), body in body()) {
        let Ok(item) = format!("{sig} {{ {body} }}").parse::<TokenStream>() else {
            return Err(TestCaseError::reject("not tokens"));
        };
        prop_assume!(is_item(&item));
        check_expansions(&args, &item)?;
        // The same fn as a method, in an impl block of `coroutines! { … }`.
        let block: TokenStream = format!("impl S {{ {item} }}").parse().expect("valid tokens");
        check_expansions(&args, &block)?;
    }
}

/// Bodies nested 2,000 deep (blocks, parentheses, brackets, calls, a long `1 + 1 …` chain),
/// with and without a yield at the bottom: the expansion runs on its own stack, deep enough.
#[test]
fn deep_nesting_expands() {
    const DEPTH: usize = 2_000;
    for inner in ["yield_!(ready(1))", "1"] {
        for (open, close) in [
            ("{ ", " }"),
            ("(", ")"),
            ("[", "]"),
            ("f(", ")"),
            ("1 + ", ""),
        ] {
            let body = format!("{}{inner}{}", open.repeat(DEPTH), close.repeat(DEPTH));
            let item = format!("fn f() -> u32 {{ {body} }}")
                .parse()
                .expect("valid tokens");
            check_expansions(&TokenStream::new(), &item).expect("deep bodies expand");
        }
    }
}
