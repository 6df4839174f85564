//! The demo tenant embedded in the binary (`fixtures/demo/inventory.json`),
//! so `kvaudit eval --demo` runs with no Azure account.
use crate::error::Error;
use crate::inventory::Inventory;

/// The demo inventory's JSON text.
pub const DEMO_INVENTORY: &str = include_str!("../fixtures/demo/inventory.json");

/// Name used for the demo in messages.
pub const DEMO_ORIGIN: &str = "<demo>/fixtures/demo/inventory.json";

pub fn inventory() -> Result<Inventory, Error> {
    Inventory::from_json(DEMO_INVENTORY, DEMO_ORIGIN)
}
