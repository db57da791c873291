//! Business catalogs: `<iq xmlns="w:biz:catalog">` — `product_catalog` (list a business's
//! products, 10 a page with an `after` cursor; hidden ones only to the owner),
//! `product_catalog_add|edit|delete` (the owner's own products) and `collections` — and
//! `<iq xmlns="fb:thrift_iq"><order op="get" id><token/>` (an order's details, for the holder of
//! its token). Collections and orders are made in the WhatsApp Business app; here they are
//! seeded with `POST /admin/business-catalog` `{ phone, collections?: [{ id, name, productIds }],
//! orders?: [{ id, token, items: [{ productId, quantity }] }] }`.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::Deserialize;
use wacore_binary::builder::NodeBuilder;
use wacore_binary::{Node, NodeContent};

use crate::accounts::Directory;
use crate::business::text;
use crate::http_response::Response;
use crate::jid::{split_jid, DeviceAddr};
use crate::locking::lock;
use crate::stanza::{attr, error, kids, result};

/// What business catalogs need of the server: its accounts, and the catalogs themselves.
pub trait CatalogState {
    fn directory(&self) -> &Mutex<Directory>;
    fn catalogs(&self) -> &Mutex<CatalogDirectory>;
}

#[derive(Clone, Debug, Default)]
pub struct Product {
    pub id: String,
    pub name: String,
    pub description: String,
    pub retailer_id: String,
    pub url: String,
    /// As the client wrote it (Baileys: an integer, 1000 = 1 unit of the currency).
    pub price: String,
    pub currency: String,
    pub images: Vec<String>,
    pub hidden: bool,
    pub origin_country: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Collection {
    pub id: String,
    pub name: String,
    #[serde(rename = "productIds", default)]
    pub product_ids: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct OrderItem {
    #[serde(rename = "productId")]
    pub product_id: String,
    pub quantity: u32,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Order {
    pub id: String,
    pub token: String,
    pub items: Vec<OrderItem>,
}

/// One business's catalog.
#[derive(Default)]
pub struct Catalog {
    products: Vec<Product>,
    collections: Vec<Collection>,
    orders: Vec<Order>,
}

/// Catalogs by the business's phone.
#[derive(Default)]
pub struct CatalogDirectory {
    catalogs: HashMap<String, Catalog>,
}

#[derive(Deserialize)]
struct Seed {
    phone: String,
    #[serde(default)]
    collections: Vec<Collection>,
    #[serde(default)]
    orders: Vec<Order>,
}

/// `POST /admin/business-catalog`: collections and orders of a business.
pub fn seed(body: &[u8], state: &impl CatalogState) -> Response {
    let seed: Seed = match serde_json::from_slice(body) {
        Ok(s) => s,
        Err(e) => return Response::text(400, format!("expected {{ phone, collections?, orders? }}: {e}\n")),
    };
    if lock(state.directory()).account(&seed.phone).is_none() {
        return Response::text(404, format!("no account with phone {}\n", seed.phone));
    }
    let mut catalogs = lock(state.catalogs());
    let catalog = catalogs.catalogs.entry(seed.phone).or_default();
    catalog.collections.extend(seed.collections);
    catalog.orders.extend(seed.orders);
    Response::text(200, "ok\n")
}

fn text_of(node: &Node, tag: &str) -> Option<String> {
    let child = kids(node).iter().find(|c| c.tag == tag)?;
    match &child.content {
        Some(NodeContent::Bytes(b)) => Some(String::from_utf8_lossy(b).into_owned()),
        Some(NodeContent::String(s)) => Some(s.to_string()),
        _ => Some(String::new()),
    }
}

/// The account a jid names (`PHONE[:DEVICE]@s.whatsapp.net`).
fn phone_of(jid: &str) -> String {
    split_jid(jid).map(|(phone, _, _)| phone).unwrap_or_default()
}

impl Product {
    /// The `<product>` node WhatsApp answers with.
    fn to_node(&self) -> Node {
        let image = self.images.first().cloned().unwrap_or_default();
        let mut kids = vec![
            text("id", &self.id),
            text("name", &self.name),
            text("description", &self.description),
            text("retailer_id", &self.retailer_id),
            text("url", &self.url),
            text("price", &self.price),
            text("currency", &self.currency),
            NodeBuilder::new("media")
                .children([NodeBuilder::new("image")
                    .children([text("request_image_url", &image), text("original_image_url", &image)])
                    .build()])
                .build(),
            NodeBuilder::new("status_info").children([text("status", "APPROVED"), text("can_appeal", "false")]).build(),
        ];
        if let Some(country) = &self.origin_country {
            kids.push(NodeBuilder::new("compliance_info").children([text("country_code_origin", country)]).build());
        }
        NodeBuilder::new("product").attr("is_hidden", self.hidden.to_string()).children(kids).build()
    }

    /// Applies the fields of a `<product>` node from a client.
    fn apply(&mut self, node: &Node) {
        for (tag, field) in [
            ("name", &mut self.name),
            ("description", &mut self.description),
            ("retailer_id", &mut self.retailer_id),
            ("url", &mut self.url),
            ("price", &mut self.price),
            ("currency", &mut self.currency),
        ] {
            if let Some(v) = text_of(node, tag) {
                *field = v;
            }
        }
        if let Some(media) = kids(node).iter().find(|c| c.tag == "media") {
            self.images = kids(media).iter().filter(|i| i.tag == "image").filter_map(|i| text_of(i, "url")).collect();
        }
        if let Some(info) = kids(node).iter().find(|c| c.tag == "compliance_info") {
            self.origin_country = text_of(info, "country_code_origin");
        }
        if let Some(hidden) = attr(node, "is_hidden") {
            self.hidden = hidden == "true";
        }
    }
}

/// `w:biz:catalog` and `fb:thrift_iq` from a logged-in device.
pub fn handle_iq(state: &impl CatalogState, me: Option<&DeviceAddr>, iq: &Node) -> Node {
    let Some(me) = me else {
        return error(iq, 401, "not-authorized");
    };
    let Some(request) = kids(iq).first() else {
        return error(iq, 400, "bad-request");
    };
    let mut catalogs = lock(state.catalogs());
    let tag = request.tag.to_string();
    match tag.as_str() {
        "product_catalog" => {
            let owner = phone_of(&attr(request, "jid").unwrap_or_default());
            let limit = text_of(request, "limit").and_then(|l| l.parse::<usize>().ok()).unwrap_or(10).max(1);
            let after = text_of(request, "after").and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
            let empty = Catalog::default();
            let catalog = catalogs.catalogs.get(&owner).unwrap_or(&empty);
            let visible: Vec<&Product> = catalog.products.iter().filter(|p| !p.hidden || owner == me.phone).collect();
            let page: Vec<Node> = visible.iter().skip(after).take(limit).map(|p| p.to_node()).collect();
            let mut children = page;
            if after + limit < visible.len() {
                children.push(NodeBuilder::new("paging").children([text("after", &(after + limit).to_string())]).build());
            }
            result(iq, vec![NodeBuilder::new("product_catalog").children(children).build()])
        }
        "product_catalog_add" | "product_catalog_edit" => {
            let Some(node) = kids(request).iter().find(|c| c.tag == "product") else {
                return error(iq, 400, "bad-request");
            };
            let catalog = catalogs.catalogs.entry(me.phone.clone()).or_default();
            let product = if tag == "product_catalog_add" {
                let mut product = Product { id: format!("{:016}", rand::random::<u64>() % 10_000_000_000_000_000), ..Product::default() };
                product.apply(node);
                if product.name.trim().is_empty() {
                    return error(iq, 400, "bad-request");
                }
                catalog.products.push(product.clone());
                product
            } else {
                let id = text_of(node, "id").unwrap_or_default();
                let Some(product) = catalog.products.iter_mut().find(|p| p.id == id) else {
                    return error(iq, 404, "item-not-found");
                };
                product.apply(node);
                product.clone()
            };
            result(
                iq,
                vec![NodeBuilder::new(if tag == "product_catalog_add" { "product_catalog_add" } else { "product_catalog_edit" })
                    .children([product.to_node()])
                    .build()],
            )
        }
        "product_catalog_delete" => {
            let ids: Vec<String> = kids(request).iter().filter(|c| c.tag == "product").filter_map(|p| text_of(p, "id")).collect();
            let catalog = catalogs.catalogs.entry(me.phone.clone()).or_default();
            let before = catalog.products.len();
            catalog.products.retain(|p| !ids.contains(&p.id));
            let deleted = before - catalog.products.len();
            result(iq, vec![NodeBuilder::new("product_catalog_delete").attr("deleted_count", deleted.to_string()).build()])
        }
        "collections" => {
            let owner = phone_of(&attr(request, "biz_jid").unwrap_or_default());
            let empty = Catalog::default();
            let catalog = catalogs.catalogs.get(&owner).unwrap_or(&empty);
            let collections = catalog.collections.iter().map(|c| {
                let mut children = vec![text("id", &c.id), text("name", &c.name)];
                children.extend(
                    catalog
                        .products
                        .iter()
                        .filter(|p| c.product_ids.contains(&p.id) && (!p.hidden || owner == me.phone))
                        .map(Product::to_node),
                );
                children.push(NodeBuilder::new("status_info").children([text("status", "APPROVED"), text("can_appeal", "false")]).build());
                NodeBuilder::new("collection").children(children).build()
            });
            result(iq, vec![NodeBuilder::new("collections").children(collections).build()])
        }
        "order" => {
            let id = attr(request, "id").unwrap_or_default();
            let token = text_of(request, "token").unwrap_or_default();
            let found = catalogs.catalogs.values().find_map(|c| c.orders.iter().find(|o| o.id == id).map(|o| (c, o)));
            let Some((catalog, order)) = found else {
                return error(iq, 404, "item-not-found");
            };
            if order.token != token {
                return error(iq, 401, "not-authorized");
            }
            let mut total = 0u64;
            let mut currency = String::new();
            let mut children: Vec<Node> = order
                .items
                .iter()
                .filter_map(|item| {
                    let p = catalog.products.iter().find(|p| p.id == item.product_id)?;
                    total += p.price.parse::<u64>().unwrap_or(0) * u64::from(item.quantity);
                    currency = p.currency.clone();
                    let image = p.images.first().cloned().unwrap_or_default();
                    Some(
                        NodeBuilder::new("product")
                            .children([
                                text("id", &p.id),
                                text("name", &p.name),
                                NodeBuilder::new("image").children([text("url", &image)]).build(),
                                text("price", &p.price),
                                text("currency", &p.currency),
                                text("quantity", &item.quantity.to_string()),
                            ])
                            .build(),
                    )
                })
                .collect();
            children.push(NodeBuilder::new("price").children([text("total", &total.to_string()), text("currency", &currency)]).build());
            result(iq, vec![NodeBuilder::new("order").attr("id", id).children(children).build()])
        }
        _ => error(iq, 501, "feature-not-implemented"),
    }
}
