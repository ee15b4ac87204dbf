//! `kessai terminal …`: registering billing terminals for a merchant and
//! revoking them (PROTOCOL 13, D4). Input is checked before the database
//! or key file is touched.

use clap::Subcommand;
use kessai_core::terminals::registry::{self, NewTerminal};
use kessai_protocol::terminal::TerminalKind;

use crate::tools::admin::{open, print_json, DbArgs};

#[derive(Debug, Subcommand)]
pub enum TerminalCommand {
    /// Register a billing terminal; prints its key (shown only this once).
    Register {
        /// The merchant it bills for (mch_…).
        #[arg(long)]
        merchant: String,
        /// pos, vending, gate, ticket or web.
        #[arg(long, value_parser = parse_kind)]
        kind: TerminalKind,
        /// What the payer's phone calls it, e.g. "Register 1".
        #[arg(long)]
        name: String,
        /// 1 to 25 printable ASCII characters for the QR code (default: the id's last 8).
        #[arg(long)]
        label: Option<String>,
        /// Where it stands, shown to the payer, e.g. "1F, by the door".
        #[arg(long)]
        location: Option<String>,
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a terminal: its key is refused (401) from now on.
    Revoke {
        /// trm_…
        terminal_id: String,
        #[command(flatten)]
        db: DbArgs,
    },
    /// List a merchant's terminals.
    List {
        #[arg(long)]
        merchant: String,
        #[command(flatten)]
        db: DbArgs,
    },
}

fn parse_kind(text: &str) -> Result<TerminalKind, String> {
    TerminalKind::parse(text).ok_or_else(|| "one of pos, vending, gate, ticket, web".to_string())
}

pub async fn run(command: TerminalCommand) -> anyhow::Result<i32> {
    let now = kessai_core::clock::now();
    match command {
        TerminalCommand::Register {
            merchant,
            kind,
            name,
            label,
            location,
            db,
        } => {
            let new = NewTerminal {
                merchant_id: merchant,
                kind,
                name,
                label,
                location,
            };
            registry::check(&new).map_err(anyhow::Error::msg)?;
            let (mut conn, _) = open(&db).await?;
            let registered = registry::register(&mut conn, new, now).await?;
            print_json(&registered)?;
            Ok(0)
        }
        TerminalCommand::Revoke { terminal_id, db } => {
            anyhow::ensure!(
                kessai_protocol::ids::is_id(kessai_protocol::ids::TERMINAL, &terminal_id),
                "the terminal id must be trm_…"
            );
            let (mut conn, _) = open(&db).await?;
            let known = registry::revoke(&mut conn, &terminal_id, now).await?;
            anyhow::ensure!(known, "no terminal {terminal_id}");
            print_json(&serde_json::json!({ "terminal_id": terminal_id, "revoked": true }))?;
            Ok(0)
        }
        TerminalCommand::List { merchant, db } => {
            anyhow::ensure!(
                kessai_protocol::ids::is_id(kessai_protocol::ids::MERCHANT, &merchant),
                "--merchant must be a merchant id (mch_…)"
            );
            let db_url = db.database.clone();
            let (_conn, _) = open(&db).await?;
            let reader = kessai_core::db::reader(&db_url).await?;
            let list = registry::list(&reader, &merchant).await?;
            let rows: Vec<_> = list
                .iter()
                .map(|t| {
                    serde_json::json!({
                        "terminal_id": t.id, "kind": t.kind, "name": t.name, "label": t.label,
                        "location": t.location, "revoked": t.revoked_at.is_some(),
                    })
                })
                .collect();
            print_json(&rows)?;
            Ok(0)
        }
    }
}
