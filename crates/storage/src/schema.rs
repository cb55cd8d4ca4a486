//! Table definitions: columns, types, constraints. The catalog in `mvcc` stores these.

use crate::types::DataType;

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnDef {
    pub name: String,
    pub data_type: DataType,
    pub nullable: bool,
}

/// The definition of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSchema {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// Column indexes of the primary key, empty when the table has none.
    pub primary_key: Vec<usize>,
}

impl TableSchema {
    /// The index of a column by (already normalised) name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The arrow2 schema of a full row of this table.
    pub fn arrow_schema(&self) -> arrow::datatypes::Schema {
        arrow::datatypes::Schema::from(
            self.columns
                .iter()
                .map(|c| arrow::datatypes::Field::new(c.name.clone(), c.data_type.to_arrow(), c.nullable))
                .collect::<Vec<_>>(),
        )
    }

    /// `CREATE TABLE` text that recreates this table (used by `.schema` and EXPLAIN).
    pub fn to_sql(&self) -> String {
        let mut cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| {
                let mut s = format!("    {} {}", quote_ident(&c.name), c.data_type.sql_name());
                if !c.nullable {
                    s.push_str(" NOT NULL");
                }
                s
            })
            .collect();
        if !self.primary_key.is_empty() {
            let names: Vec<String> = self.primary_key.iter().map(|&i| quote_ident(&self.columns[i].name)).collect();
            cols.push(format!("    PRIMARY KEY ({})", names.join(", ")));
        }
        format!("CREATE TABLE {} (\n{}\n);", quote_ident(&self.name), cols.join(",\n"))
    }
}

/// Quotes an identifier when it would not read back unchanged unquoted.
pub fn quote_ident(name: &str) -> String {
    let plain = name.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_sql() {
        let t = TableSchema {
            name: "t".into(),
            columns: vec![
                ColumnDef { name: "id".into(), data_type: DataType::BigInt, nullable: false },
                ColumnDef { name: "Name".into(), data_type: DataType::Text, nullable: true },
            ],
            primary_key: vec![0],
        };
        assert_eq!(
            t.to_sql(),
            "CREATE TABLE t (\n    id BIGINT NOT NULL,\n    \"Name\" TEXT,\n    PRIMARY KEY (id)\n);"
        );
        assert_eq!(t.column_index("Name"), Some(1));
    }
}
