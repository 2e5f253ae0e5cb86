//! Who is calling: the index of customers' numbers read from the form's register, and the
//! caller's card `who` prints from it.

use pyrus_phone::sandbox::SandboxCustomer;
use serde_json::Value;

use crate::support::Env;

/// The card's tasks of one kind, by subject.
fn subjects(card: &Value, kind: &str) -> Vec<String> {
    card[kind]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["subject"].as_str().unwrap().to_owned())
        .collect()
}

async fn card(env: &Env, number: &str) -> Value {
    let out = env.run(&["who", number, "--json"]).await.exited(0);
    serde_json::from_str(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_is_found_by_the_numbers_people_typed_in_the_form() {
    let env = Env::start_with(|c| {
        c.with_customers(vec![
            SandboxCustomer::open("A: Order 123 not delivered", "+7 916 123-45-67", 10),
            SandboxCustomer::open("B: Refund for order 98", "+7 916 123-45-67", 600).closed(),
            SandboxCustomer::open("C: Router keeps rebooting", "8 (916) 765-43-21", 5),
            SandboxCustomer::open("D: Someone else", "+7 916 111-22-33", 5),
        ])
    })
    .await;
    env.write_settings("[pyrus]\nform_id = 1\n\n[defaults]\ncountry = \"RU\"\n");

    // The first look reads the form; the number as the softphone gives it (E.164).
    let a = card(&env, "+79161234567").await;
    assert_eq!(a["number"], "+79161234567");
    assert_eq!(subjects(&a, "open"), ["A: Order 123 not delivered"]);
    assert_eq!(subjects(&a, "closed"), ["B: Refund for order 98"]);
    assert!(a["as_of"].is_string(), "{a}");
    assert_eq!(a["open"][0]["step"], "New");
    let c = card(&env, "+79167654321").await;
    assert_eq!(subjects(&c, "open"), ["C: Router keeps rebooting"]);
    assert!(subjects(&c, "closed").is_empty());
    // A national number typed by the agent finds the same.
    assert_eq!(
        subjects(&card(&env, "8 916 765-43-21").await, "open"),
        ["C: Router keeps rebooting"]
    );
    // Nobody: an empty card, still exit 0.
    let nobody = card(&env, "+79990000000").await;
    assert!(subjects(&nobody, "open").is_empty() && subjects(&nobody, "closed").is_empty());
    // The form was read once: the later looks are local.
    let reads = env
        .sandbox
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/register"))
        .count();
    assert_eq!(reads, 1, "one page holds the form");

    // For people: the number grouped, the closed task under History.
    let out = env.run(&["who", "+79161234567"]).await.exited(0);
    out.stdout_says("+7 916 123-45-67: 1 open task(s), 1 closed");
    out.stdout_says("A: Order 123 not delivered — New");
    out.stdout_says("History (1):");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_the_bot_may_not_read_or_no_form_says_what_to_do() {
    let env = Env::start().await;
    env.write_settings("[pyrus]\nform_id = 99\n");
    let out = env.run(&["who", "+79161234567"]).await.exited(0);
    out.stdout_says("ask your Pyrus administrator to give the bot access to form 99");
    let denied = card(&env, "+79161234567").await;
    assert_eq!(denied["forms"][0]["state"], "denied");
    assert_eq!(denied["forms"][0]["code"], "access_denied_form");

    env.write_settings("[defaults]\ncountry = \"RU\"\n");
    let out = env.run(&["who", "+79161234567"]).await.exited(0);
    out.stdout_says("no form is set");
    // A number that is none is refused before anything is read.
    env.run(&["who", "call me"]).await.exited(2);
}
