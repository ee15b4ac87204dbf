//! `kessai demo` (PROTOCOL section 10): the settling server and the demo
//! shop, each on its own origin, with a fresh merchant registered for the
//! shop's origin and a funded test card; prints one JSON line when both
//! are ready.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use serde_json::json;

use crate::config::Config;
use crate::http::apps;
use crate::startup::Application;
use crate::tools::shop::ShopConfig;
use kessai_core::keyring::Keyring;

pub struct DemoArgs {
    pub listen: SocketAddr,
    pub shop_listen: SocketAddr,
    pub database: String,
    pub key_file: Option<PathBuf>,
    pub widget_dir: Option<PathBuf>,
}

/// The demo card's opening balance: ¥1,000,000.
const CARD_BALANCE_JPY: i64 = 1_000_000;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let mut config = Config::new(args.listen, args.database.clone(), args.key_file.clone());
    config.widget_dir = args.widget_dir;
    if matches!(apps::source(&config, &apps::catalog::WIDGET), apps::Source::NotBuilt) {
        tracing::warn!(
            "this kessai was built without the checkout widget: the shop's checkout page will not show a payment form \
             (run scripts/build-widget.sh and rebuild, or pass --widget-dir)"
        );
    }
    let key_file = config.key_file.clone();
    let app = Application::build(config).await?;
    let server_url = format!("http://{}", app.local_addr()?);
    let shop_listener = tokio::net::TcpListener::bind(args.shop_listen)
        .await
        .with_context(|| format!("binding {}", args.shop_listen))?;
    let shop_url = format!("http://{}", shop_listener.local_addr()?);

    let keyring = Keyring::load_or_create(&key_file)?;
    let mut conn = kessai_core::db::connection(&args.database).await?;
    let merchant = kessai_core::merchants::create(
        &mut conn,
        &keyring,
        "Kessai demo shop",
        std::slice::from_ref(&shop_url),
        Some(&format!("{shop_url}/kessai/webhook")),
    )
    .await?;
    let card = kessai_core::instruments::issue_card(
        &mut conn,
        &keyring,
        "kessai-card",
        "Demo Buyer",
        CARD_BALANCE_JPY,
        "JPY",
        None,
    )
    .await?;
    drop(conn);

    let shop = crate::tools::shop::router(ShopConfig {
        shop_url: shop_url.clone(),
        server_url: server_url.clone(),
        merchant_id: merchant.merchant_id.clone(),
        secret_key: merchant.secret_key.clone(),
        result_key: merchant.result_key.clone(),
        webhook_secret: merchant.webhook_secret.clone(),
    });
    let server_task = tokio::spawn(app.run());
    let shop_task = tokio::spawn(async move { axum::serve(shop_listener, shop).await });

    println!(
        "{}",
        json!({
            "server_url": server_url,
            "shop_url": shop_url,
            "card": {"card_number": card.card_number, "exp_month": card.exp_month, "exp_year": card.exp_year, "cvc": card.cvc},
        })
    );
    eprintln!(
        "\nKessai demo\n  shop:     {shop_url}   (open it in a browser and buy something)\n  server:   {server_url}   (API reference: {server_url}/openapi.json)\n  test card {}  exp {:02}/{}  CVC {}\nCtrl-C stops both.\n",
        card.card_number, card.exp_month, card.exp_year, card.cvc
    );
    tokio::select! {
        served = server_task => served??,
        shop = shop_task => shop??,
    }
    Ok(())
}
