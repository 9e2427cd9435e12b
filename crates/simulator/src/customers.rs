//! Customers: compact records with names and addresses drawn from small lists,
//! and the order statistics the customer resource reports.

pub(crate) const NO_CUSTOMER: u32 = u32::MAX;

pub(crate) struct Customer {
    pub created_at: i64,
    pub first_name: u8,
    pub last_name: u8,
    pub city: u8,
    pub accepts_marketing: bool,
    /// Holds an active subscription (Plentum): receives recurring orders.
    pub subscriber: bool,
    /// Derived from the orders visible at the world's `now` (see `World::refresh`).
    pub orders_count: u32,
    pub total_spent_cents: i64,
    pub last_order: u32,
    pub updated_at: i64,
}

pub(crate) const FIRST_NAMES: [&str; 32] = [
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas",
    "Mia", "Mateo", "Amelia", "Benjamin", "Harper", "Henry", "Evelyn", "Theo", "Camila", "Jack",
    "Luna", "Daniel", "Aaliyah", "Samuel", "Priya", "Wei", "Fatima", "Diego", "Chloe", "Omar",
    "Grace", "Kenji",
];

pub(crate) const LAST_NAMES: [&str; 32] = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Nguyen",
    "Patel",
    "Kim",
    "O'Brien",
    "Walker",
];

/// City, province, province code, zip, tax rate in basis points.
pub(crate) const CITIES: [(&str, &str, &str, &str, u32); 12] = [
    ("Louisville", "Kentucky", "KY", "40202", 600),
    ("Austin", "Texas", "TX", "78701", 825),
    ("Brooklyn", "New York", "NY", "11201", 888),
    ("Portland", "Oregon", "OR", "97205", 0),
    ("Denver", "Colorado", "CO", "80202", 881),
    ("Miami", "Florida", "FL", "33130", 700),
    ("Seattle", "Washington", "WA", "98101", 1025),
    ("Chicago", "Illinois", "IL", "60601", 1025),
    ("Phoenix", "Arizona", "AZ", "85004", 860),
    ("Atlanta", "Georgia", "GA", "30303", 890),
    ("San Diego", "California", "CA", "92101", 775),
    ("Boston", "Massachusetts", "MA", "02108", 625),
];

impl Customer {
    pub fn first_name(&self) -> &'static str {
        FIRST_NAMES[self.first_name as usize % FIRST_NAMES.len()]
    }

    pub fn last_name(&self) -> &'static str {
        LAST_NAMES[self.last_name as usize % LAST_NAMES.len()]
    }

    pub fn city(&self) -> (&'static str, &'static str, &'static str, &'static str, u32) {
        CITIES[self.city as usize % CITIES.len()]
    }

    /// Unique per shop: the index keeps two "Olivia Smith"s apart.
    pub fn email(&self, index: u32) -> String {
        format!(
            "{}.{}{}@example.com",
            self.first_name().to_lowercase(),
            self.last_name().to_lowercase().replace('\'', ""),
            index
        )
    }

    /// The customer's tags, one list for both faces (GraphQL lists them,
    /// REST joins them with ", "), so a `customers/update` webhook and the
    /// GraphQL sync tell the same customer.
    pub fn tags(&self) -> Vec<&'static str> {
        [
            (self.subscriber, "subscriber"),
            (self.orders_count >= 3, "VIP"),
            (self.accepts_marketing, "newsletter"),
        ]
        .into_iter()
        .filter_map(|(has, tag)| has.then_some(tag))
        .collect()
    }

    pub fn phone(&self, index: u32) -> String {
        format!("+1555{:07}", index % 10_000_000)
    }
}
