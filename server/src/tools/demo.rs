//! `kessai demo`: a small payment network you can run on one machine. The
//! shop's settling institution and two more ("Sakura Bank" and "Fuji
//! Card"), each its own server with its own SQLite file and listener, pinned
//! as each other's peers (PROTOCOL 11); the demo shop on its own origin,
//! with a merchant registered at the first institution; a funded test card
//! and a wallet user at each. A card from any of the three pays the shop.
//! Prints one JSON line when everything is ready.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use kessai_core::institution::{self, Settings};
use kessai_core::keyring::Keyring;
use kessai_protocol::money::Money;
use kessai_protocol::terminal::TerminalKind;
use serde_json::{json, Value};

use crate::config::Config;
use crate::http::apps;
use crate::startup::Application;
use crate::tools::shop::ShopConfig;

pub struct DemoArgs {
    pub listen: SocketAddr,
    pub shop_listen: SocketAddr,
    pub database: String,
    pub key_file: Option<PathBuf>,
    pub widget_dir: Option<PathBuf>,
    pub wallet_dir: Option<PathBuf>,
}

/// Each demo card's opening balance: ¥1,000,000.
const CARD_BALANCE_JPY: i64 = 1_000_000;
/// The credit each demo institution gives each other one: ¥10,000,000.
const CREDIT_LIMIT_JPY: u64 = 10_000_000;
/// Every demo wallet user's password (the demo is on loopback, for trying).
const USER_PASSWORD: &str = "demo-password";
/// Every demo wallet user's PIN, for a POS's PIN challenge (D8).
const USER_PIN: &str = "1234";
/// The portrait a clerk sees beside a demo wallet user's name (D6).
const USER_PORTRAIT: &[u8] = include_bytes!("demo_portrait.png");

/// One institution of the demo network.
struct Member {
    name: &'static str,
    brand: &'static str,
    card_prefix: &'static str,
    /// Beside the shop's database: `kessai.db` → `kessai-sakura.db`.
    file_suffix: &'static str,
}

const MEMBERS: [Member; 3] = [
    Member {
        name: "Kessai Pay",
        brand: "kessai-card",
        card_prefix: "401234",
        file_suffix: "",
    },
    Member {
        name: "Sakura Bank",
        brand: "sakura-debit",
        card_prefix: "412345",
        file_suffix: "-sakura",
    },
    Member {
        name: "Fuji Card",
        brand: "fuji-card",
        card_prefix: "498765",
        file_suffix: "-fuji",
    },
];

/// A started institution of the network.
struct Running {
    member: &'static Member,
    database: String,
    keyring: Keyring,
    url: String,
    thumbprint: String,
}

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut network = Vec::with_capacity(MEMBERS.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (i, member) in MEMBERS.iter().enumerate() {
        let (running, app) = start(&args, member, i).await?;
        // Serving before the peering: each fetches the others' documents.
        tasks.spawn(app.run());
        network.push(running);
    }
    peer_everyone(&network).await?;
    let shop_listener = tokio::net::TcpListener::bind(args.shop_listen)
        .await
        .with_context(|| format!("binding {}", args.shop_listen))?;
    let shop_url = format!("http://{}", shop_listener.local_addr()?);
    let (shop, merchant_id) = shop_router(&network[0], &shop_url).await?;
    let pos = register_pos(&network[0], &merchant_id).await?;
    let devices = register_devices(&network[0], &merchant_id).await?;
    let mut institutions = Vec::with_capacity(network.len());
    for running in &network {
        institutions.push(buyer_at(running).await?);
    }
    announce(&network[0].url, &shop_url, &pos, &devices, &institutions);
    tasks.spawn(async move { Ok(axum::serve(shop_listener, shop).await?) });
    // The first to stop (Ctrl-C stops all) ends the demo.
    if let Some(ended) = tasks.join_next().await {
        ended??;
    }
    Ok(())
}

/// `--allow-http-webhooks --allow-private-webhooks`: the demo shop is local.
const DEMO_WEBHOOKS: kessai_core::webhook_targets::WebhookPolicy = kessai_core::webhook_targets::WebhookPolicy {
    allow_http: true,
    allow_private: true,
};

/// Starts institution number `i` and gives it its name, brand and prefix.
async fn start(args: &DemoArgs, member: &'static Member, i: usize) -> anyhow::Result<(Running, Application)> {
    let database = sibling_database(&args.database, member.file_suffix)?;
    let key_file = if i == 0 { args.key_file.clone() } else { None };
    let mut listen = args.listen;
    if listen.port() != 0 {
        listen.set_port(listen.port() + u16::try_from(i)?);
    }
    let mut config = Config::new(listen, database.clone(), key_file);
    config.widget_dir = args.widget_dir.clone();
    config.wallet_dir = args.wallet_dir.clone();
    // The demo shop listens on http://127.0.0.1: its webhooks need both opt-ins.
    config.webhook_policy = DEMO_WEBHOOKS;
    if i == 0 && matches!(apps::source(&config, &apps::catalog::WIDGET), apps::Source::NotBuilt) {
        tracing::warn!(
            "this kessai was built without the checkout widget: the shop's checkout page will not show a payment form \
             (run scripts/build-widget.sh and rebuild, or pass --widget-dir)"
        );
    }
    let keyring = Keyring::load_or_create(&config.key_file)?;
    let app = Application::build(config).await?;
    let settings = Settings {
        name: Some(member.name.into()),
        brands: Some(vec![member.brand.into()]),
        currencies: Some(vec!["JPY".into()]),
        card_prefix: Some(member.card_prefix.into()),
    };
    let mut conn = kessai_core::db::connection(&database).await?;
    let shown = institution::set(&mut conn, &keyring, settings).await?.summary();
    let running = Running {
        member,
        database,
        keyring,
        url: format!("http://{}", app.local_addr()?),
        thumbprint: shown.thumbprint,
    };
    Ok((running, app))
}

/// `sqlite://dir/kessai.db` with `-sakura` → `sqlite://dir/kessai-sakura.db`.
fn sibling_database(url: &str, suffix: &str) -> anyhow::Result<String> {
    if suffix.is_empty() {
        return Ok(url.to_string());
    }
    let path =
        kessai_core::db::sqlite_path(url).context("kessai demo runs on SQLite files (--database sqlite://FILE)")?;
    let (stem, extension) = path.rsplit_once('.').unwrap_or((path.as_str(), "db"));
    Ok(format!("sqlite://{stem}{suffix}.{extension}"))
}

/// Every institution pins every other's key: fetched from its URL, checked
/// against the thumbprint it reported here (the out-of-band channel).
async fn peer_everyone(network: &[Running]) -> anyhow::Result<()> {
    for own in network {
        let mut conn = kessai_core::db::connection(&own.database).await?;
        let me = institution::load_or_create(&mut conn, &own.keyring).await?;
        for other in network.iter().filter(|o| o.url != own.url) {
            let doc = crate::tools::network::fetch_document(&other.url).await?;
            let limit = Money::new(CREDIT_LIMIT_JPY, "JPY", "credit_limit").map_err(|e| anyhow::anyhow!(e.message))?;
            kessai_core::peers::add(&mut conn, &me, &other.url, &doc, &other.thumbprint, Some(limit)).await?;
        }
    }
    Ok(())
}

/// The demo shop, a merchant of the first institution, and its id.
async fn shop_router(home: &Running, shop_url: &str) -> anyhow::Result<(axum::Router, String)> {
    let mut conn = kessai_core::db::connection(&home.database).await?;
    let notify_url = format!("{shop_url}/kessai/webhook");
    let new = kessai_core::merchants::NewMerchant {
        name: "Kessai demo shop",
        origins: &[shop_url.to_string()],
        notify_url: Some(&notify_url),
        client_cert_sha256: None,
        webhook_policy: DEMO_WEBHOOKS,
    };
    let merchant = kessai_core::merchants::create(&mut conn, &home.keyring, &new).await?;
    let merchant_id = merchant.merchant_id.clone();
    let router = crate::tools::shop::router(ShopConfig {
        shop_url: shop_url.to_string(),
        server_url: home.url.clone(),
        merchant_id: merchant.merchant_id,
        secret_key: merchant.secret_key,
        result_key: merchant.result_key,
        webhook_secret: merchant.webhook_secret,
    });
    Ok((router, merchant_id))
}

/// A POS terminal of the demo shop (PROTOCOL 13): its id, key and the
/// address that signs the POS app in with it.
async fn register_pos(home: &Running, merchant_id: &str) -> anyhow::Result<Value> {
    let machine = Machine {
        kind: TerminalKind::Pos,
        name: "Demo shop register",
        label: "REGISTER-1",
        location: "Counter by the door",
        page: "/pos/",
    };
    register(home, merchant_id, &machine).await
}

/// A terminal of the demo shop and the page that drives it.
struct Machine {
    kind: TerminalKind,
    name: &'static str,
    label: &'static str,
    location: &'static str,
    /// The page on the server, `#key=` appended.
    page: &'static str,
}

/// The demo shop's machines (PROTOCOL 13, "Devices"), each with its page
/// under `/devices/`, by the name the ready line gives them.
const MACHINES: [(&str, Machine); 5] = [
    (
        "vending",
        Machine {
            kind: TerminalKind::Vending,
            name: "Drinks machine",
            label: "VEND-1",
            location: "Lobby",
            page: "/devices/vending.html",
        },
    ),
    (
        "gate_entry",
        Machine {
            kind: TerminalKind::Gate,
            name: "Car park entrance",
            label: "GATE-IN",
            location: "Car park, level B1",
            page: "/devices/gate.html?mode=entry",
        },
    ),
    (
        "gate_exit",
        Machine {
            kind: TerminalKind::Gate,
            name: "Car park exit",
            label: "GATE-OUT",
            location: "Car park, level B1",
            page: "/devices/gate.html?mode=exit",
        },
    ),
    (
        "ticket_sell",
        Machine {
            kind: TerminalKind::Ticket,
            name: "Ticket machine",
            label: "TICKETS-1",
            location: "Blue Hall box office",
            page: "/devices/ticket.html?mode=sell",
        },
    ),
    (
        "ticket_check",
        Machine {
            kind: TerminalKind::Ticket,
            name: "Hall entrance",
            label: "DOOR-A",
            location: "Blue Hall, door A",
            page: "/devices/ticket.html?mode=check",
        },
    ),
];

/// The car park's fee table (`kessai merchant fees`): ¥100 on entering,
/// ¥5 a started minute, ¥1,500 at most.
const GATE_FEES_JPY: (i64, i64, i64) = (100, 5, 1500);

/// Registers the demo shop's machines and sets its car park fees.
async fn register_devices(home: &Running, merchant_id: &str) -> anyhow::Result<Value> {
    let (base, per_minute, max) = GATE_FEES_JPY;
    let fees = kessai_core::terminals::gates::check_fees(merchant_id, "JPY", base, per_minute, max)
        .map_err(anyhow::Error::msg)?;
    let mut conn = kessai_core::db::connection(&home.database).await?;
    kessai_core::terminals::gates::set_fees(&mut conn, &fees, kessai_core::clock::now()).await?;
    let mut devices = serde_json::Map::new();
    for (name, machine) in &MACHINES {
        devices.insert((*name).to_string(), register(home, merchant_id, machine).await?);
    }
    Ok(Value::Object(devices))
}

/// Registers one terminal: its id, key and the address that signs its page in.
async fn register(home: &Running, merchant_id: &str, machine: &Machine) -> anyhow::Result<Value> {
    let mut conn = kessai_core::db::connection(&home.database).await?;
    let new = kessai_core::terminals::registry::NewTerminal {
        merchant_id: merchant_id.to_string(),
        kind: machine.kind,
        name: machine.name.into(),
        label: Some(machine.label.into()),
        location: Some(machine.location.into()),
    };
    let registered = kessai_core::terminals::registry::register(&mut conn, new, kessai_core::clock::now()).await?;
    let key = registered.terminal_key.expose();
    Ok(json!({
        "terminal_id": registered.terminal_id,
        "terminal_key": key,
        "url": format!("{}{}#key={key}", home.url, machine.page),
    }))
}

/// A funded card and wallet user at `running`, as the ready line shows them.
async fn buyer_at(running: &Running) -> anyhow::Result<Value> {
    let mut conn = kessai_core::db::connection(&running.database).await?;
    let (keyring, member) = (&running.keyring, running.member);
    let holder = format!("{} buyer", member.name);
    let card =
        kessai_core::instruments::issue_card(&mut conn, keyring, member.brand, &holder, CARD_BALANCE_JPY, "JPY", None)
            .await?;
    let user =
        kessai_core::instruments::create_user(&mut conn, keyring, &holder, USER_PASSWORD, CARD_BALANCE_JPY, "JPY")
            .await?;
    let profile = kessai_core::terminals::payers::Profile {
        pin: Some(USER_PIN.into()),
        portrait: Some(USER_PORTRAIT.to_vec()),
        birth_date: Some("1990-04-01".into()),
    };
    kessai_core::terminals::payers::set_profile(&mut conn, &user.user_id, &profile).await?;
    Ok(json!({
        "name": member.name, "brand": member.brand, "url": running.url,
        "card": {"card_number": card.card_number, "exp_month": card.exp_month, "exp_year": card.exp_year, "cvc": card.cvc},
        "user": {"user_id": user.user_id, "password": USER_PASSWORD, "pin": USER_PIN},
    }))
}

/// The ready line (stdout, one JSON object) and the same for people (stderr).
fn announce(server_url: &str, shop_url: &str, pos: &Value, devices: &Value, institutions: &[Value]) {
    println!(
        "{}",
        json!({
            "server_url": server_url,
            "shop_url": shop_url,
            "wallet_url": format!("{server_url}/wallet/"),
            "pos": pos,
            "devices": devices,
            "card": institutions[0]["card"],
            "institutions": institutions,
        })
    );
    let mut text = format!(
        "\nKessai demo\n  shop:   {shop_url}   (open it in a browser and buy something)\n  server: {server_url}   (API reference: {server_url}/openapi.json)\n"
    );
    for institution in institutions {
        let card = &institution["card"];
        text.push_str(&format!(
            "  {:<12} {}  card {} exp {:02}/{} CVC {}  wallet user {} / {}\n",
            institution["name"].as_str().unwrap_or_default(),
            institution["url"].as_str().unwrap_or_default(),
            card["card_number"].as_str().unwrap_or_default(),
            card["exp_month"].as_u64().unwrap_or_default(),
            card["exp_year"],
            card["cvc"].as_str().unwrap_or_default(),
            institution["user"]["user_id"].as_str().unwrap_or_default(),
            USER_PASSWORD,
        ));
    }
    text.push_str(&format!(
        "  wallet: {server_url}/wallet/   (Add account with an institution's address, a wallet user and its \
         password; add two, then pay at the shop with \"Pay with web wallet\")\n"
    ));
    text.push_str(&format!(
        "  pos:    {}   (the shop's register: sell something, then pay it from the wallet's \"Pay in store\" \
         with a {} wallet user, PIN {USER_PIN})\n",
        pos["url"].as_str().unwrap_or_default(),
        institutions[0]["name"].as_str().unwrap_or_default(),
    ));
    text.push_str(&devices_text(devices));
    eprintln!("{text}Any of the three cards, or any wallet user, pays the shop. Ctrl-C stops everything.\n");
}

/// The machines' lines of the human text.
fn devices_text(devices: &Value) -> String {
    let mut text = String::from(
        "  machines (pay each from the wallet's \"Pay in store\"; the exit sends the admission the entrance gave):\n",
    );
    for (name, machine) in &MACHINES {
        text.push_str(&format!(
            "    {:<17} {}\n",
            machine.name,
            devices[*name]["url"].as_str().unwrap_or_default()
        ));
    }
    text
}
