//! The counts of one deltaspace, as the ledger keeps them, and their JSON form.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// What one deltaspace holds (or, in a journal entry, how that changed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Figures {
    /// Objects clients see.
    pub(crate) objects: i64,
    /// Of those, stored as deltas.
    pub(crate) delta_objects: i64,
    /// Of those, stored whole.
    pub(crate) whole_objects: i64,
    /// Their bytes as clients wrote them.
    pub(crate) original_bytes: i64,
    /// Bytes stored for them (deltas and whole objects; references apart).
    pub(crate) stored_bytes: i64,
    /// References of the deltaspace.
    pub(crate) references: i64,
    /// Bytes stored for the references.
    pub(crate) reference_bytes: i64,
}

/// Figures by deltaspace prefix (`""`: the bucket's root).
pub(crate) type Spaces = BTreeMap<String, Figures>;

const FIELDS: [&str; 7] = [
    "objects",
    "delta_objects",
    "whole_objects",
    "original_bytes",
    "stored_bytes",
    "references",
    "reference_bytes",
];

impl Figures {
    /// One object stored as a delta (`delta`) or whole.
    pub(crate) fn object(original: u64, stored: u64, delta: bool) -> Self {
        Self {
            objects: 1,
            delta_objects: i64::from(delta),
            whole_objects: i64::from(!delta),
            original_bytes: to_i64(original),
            stored_bytes: to_i64(stored),
            ..Self::default()
        }
    }

    /// One reference of `stored` bytes.
    pub(crate) fn reference(stored: u64) -> Self {
        Self {
            references: 1,
            reference_bytes: to_i64(stored),
            ..Self::default()
        }
    }

    /// These figures with every count's sign turned.
    pub(crate) fn negated(self) -> Self {
        let mut out = self;
        for (_, v) in out.fields_mut() {
            *v = v.saturating_neg();
        }
        out
    }

    /// Adds `other` to these figures.
    pub(crate) fn add(&mut self, other: &Self) {
        for ((_, v), (_, o)) in self.fields_mut().into_iter().zip(other.fields()) {
            *v = v.saturating_add(o);
        }
    }

    /// Whether every count is zero.
    pub(crate) fn is_zero(&self) -> bool {
        self.fields().iter().all(|(_, v)| *v == 0)
    }

    /// Everything stored for the deltaspace: its objects' bytes and its references'.
    pub(crate) fn total_stored(&self) -> i64 {
        self.stored_bytes.saturating_add(self.reference_bytes)
    }

    fn fields(&self) -> [(&'static str, i64); 7] {
        let v = [
            self.objects,
            self.delta_objects,
            self.whole_objects,
            self.original_bytes,
            self.stored_bytes,
            self.references,
            self.reference_bytes,
        ];
        std::array::from_fn(|i| (FIELDS[i], v[i]))
    }

    fn fields_mut(&mut self) -> [(&'static str, &mut i64); 7] {
        let Self {
            objects,
            delta_objects,
            whole_objects,
            original_bytes,
            stored_bytes,
            references,
            reference_bytes,
        } = self;
        let [a, b, c, d, e, f, g] = FIELDS;
        [
            (a, objects),
            (b, delta_objects),
            (c, whole_objects),
            (d, original_bytes),
            (e, stored_bytes),
            (f, references),
            (g, reference_bytes),
        ]
    }

    /// The JSON object of these figures (only the counts that are not zero).
    pub(crate) fn to_json(self) -> Value {
        let map: Map<String, Value> = self
            .fields()
            .into_iter()
            .filter(|(_, v)| *v != 0)
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        Value::Object(map)
    }

    /// Figures read back from [`Self::to_json`]; `None` unless every count present is an
    /// integer and every name known.
    pub(crate) fn from_json(value: &Value) -> Option<Self> {
        let map = value.as_object()?;
        let mut out = Self::default();
        for (name, v) in map {
            let slot = out.fields_mut().into_iter().find(|(f, _)| f == name)?.1;
            *slot = v.as_i64()?;
        }
        Some(out)
    }

    /// The JSON the API answers: every count, and the saving.
    pub(crate) fn report(&self) -> Map<String, Value> {
        let mut map: Map<String, Value> = self
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect();
        map.insert("stored_bytes".into(), json!(self.total_stored()));
        map.insert(
            "saved_bytes".into(),
            json!(self.original_bytes.saturating_sub(self.total_stored())),
        );
        map
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Adds every deltaspace of `other` to `into`, dropping those left at zero.
pub(crate) fn add_spaces(into: &mut Spaces, other: &Spaces) {
    for (space, figures) in other {
        let entry = into.entry(space.clone()).or_default();
        entry.add(figures);
        if entry.is_zero() {
            into.remove(space);
        }
    }
}

/// The JSON object of `spaces`, by prefix.
pub(crate) fn spaces_to_json(spaces: &Spaces) -> Value {
    Value::Object(
        spaces
            .iter()
            .filter(|(_, f)| !f.is_zero())
            .map(|(k, f)| (k.clone(), f.to_json()))
            .collect(),
    )
}

/// Deltaspaces read back from [`spaces_to_json`]; `None` if any entry does not parse.
pub(crate) fn spaces_from_json(value: &Value) -> Option<Spaces> {
    value
        .as_object()?
        .iter()
        .map(|(k, v)| Some((k.clone(), Figures::from_json(v)?)))
        .collect()
}

/// The sum over every deltaspace.
pub(crate) fn total(spaces: &Spaces) -> Figures {
    spaces.values().fold(Figures::default(), |mut sum, f| {
        sum.add(f);
        sum
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_and_sums() {
        let mut a = Figures::object(1000, 30, true);
        a.add(&Figures::reference(900));
        let back = Figures::from_json(&a.to_json()).expect("parses");
        assert_eq!(back, a);
        assert_eq!(a.total_stored(), 930);
        let mut spaces = Spaces::new();
        add_spaces(&mut spaces, &Spaces::from([("x/".to_owned(), a)]));
        add_spaces(&mut spaces, &Spaces::from([("x/".to_owned(), a.negated())]));
        assert!(spaces.is_empty(), "a change undone leaves nothing");
        assert_eq!(Figures::from_json(&json!({"objects": 1.5})), None);
        assert_eq!(Figures::from_json(&json!({"bogus": 1})), None);
    }
}
