//! The menu engine's step costs: answering a menu screen (to a task), resuming a task into a paged list
//! screen, and answering an amount input with validation, each including rendering within the budget.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mkopo::menu::{sample_slots, Formats, Menu, NavKeys, State, TaskResult, Turn};
use mkopo::ussd::ScreenBudget;

fn at(menu: &Menu, node: &str) -> State {
    let (mut state, _) = menu.begin("en", ScreenBudget::default());
    state.node = node.to_owned();
    state.slots = sample_slots();
    state.history = vec!["main".to_owned()];
    let _ = menu;
    state
}

fn engine(c: &mut Criterion) {
    let budget = ScreenBudget::default();
    let menu = Menu::load(None, &[], NavKeys::default(), Formats::default(), budget).expect("the shipped menu loads");
    let mut group = c.benchmark_group("engine");

    let main = at(&menu, "main");
    group.bench_function("answer_menu_to_task", |b| {
        b.iter(|| {
            let mut state = main.clone();
            let turn = menu.answer(&mut state, black_box("2"), budget);
            assert!(matches!(turn, Turn::Task(_)));
            black_box(turn)
        })
    });

    let loans = sample_slots().get("loans").cloned().expect("sample loans");
    let mut balance = at(&menu, "balance");
    balance.slots = mkopo::menu::Slots::new();
    group.bench_function("resume_task_to_paged_list", |b| {
        b.iter(|| {
            let mut state = balance.clone();
            let result = TaskResult::outcome("some").with("loans", loans.clone());
            black_box(menu.resume(&mut state, result, budget))
        })
    });

    let other = at(&menu, "borrow-other");
    group.bench_function("answer_amount_input", |b| {
        b.iter(|| {
            let mut state = other.clone();
            black_box(menu.answer(&mut state, black_box("60,000"), budget))
        })
    });

    let confirm = at(&menu, "borrow-confirm");
    group.bench_function("render_confirmation", |b| b.iter(|| black_box(menu.render(&confirm, budget))));
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
