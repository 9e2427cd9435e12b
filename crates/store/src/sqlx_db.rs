//! The part of a backend that only adapts sqlx to [`Db`](crate::db::Db):
//! binding [`Value`](crate::db::Value)s, decoding rows into
//! [`Row`](crate::db::Row)s, and the `Db` / `DbTx` impls over a pool and its
//! transactions. It is the same for SQLite and PostgreSQL except for the
//! sqlx types, so one macro writes it for each backend; what differs
//! (connect options, pool sizes, durability pragmas) stays in
//! `sqlite.rs` and `postgres.rs`.

/// Implements `Db` for `$db` (a struct with a `pool: sqlx::Pool<$sqlx>`
/// field) and `DbTx` for `sqlx::Transaction<'static, $sqlx>`, migrating
/// with the calling module's `MIGRATOR`.
macro_rules! sqlx_db {
    ($db:ident, $sqlx:ty, $backend:expr, $dialect:expr) => {
        fn bind<'q>(
            mut query: sqlx::query::Query<'q, $sqlx, <$sqlx as sqlx::Database>::Arguments<'q>>,
            params: &'q [$crate::db::Value],
        ) -> sqlx::query::Query<'q, $sqlx, <$sqlx as sqlx::Database>::Arguments<'q>> {
            use $crate::db::Value;
            for param in params {
                query = match param {
                    Value::Int(v) => query.bind(*v),
                    Value::Text(v) => query.bind(v.as_deref()),
                    Value::Bool(v) => query.bind(*v),
                };
            }
            query
        }

        fn decode(
            row: &<$sqlx as sqlx::Database>::Row,
            names: &std::sync::Arc<[std::sync::Arc<str>]>,
            cols: &[$crate::db::Col],
        ) -> $crate::Result<$crate::db::Row> {
            use sqlx::Row as _;
            use $crate::db::{Col, Value};
            let values = cols
                .iter()
                .enumerate()
                .map(|(i, col)| {
                    Ok(match col {
                        Col::Int => Value::Int(row.try_get(i)?),
                        Col::Text => Value::Text(row.try_get(i)?),
                        Col::Bool => Value::Bool(row.try_get(i)?),
                    })
                })
                .collect::<$crate::Result<_>>()?;
            Ok($crate::db::Row {
                names: names.clone(),
                values,
            })
        }

        async fn fetch<'e>(
            executor: impl sqlx::Executor<'e, Database = $sqlx>,
            sql: &str,
            params: &[$crate::db::Value],
            cols: &[$crate::db::Col],
        ) -> $crate::Result<Vec<$crate::db::Row>> {
            use sqlx::{Column as _, Row as _};
            let rows = bind(sqlx::query(sql), params).fetch_all(executor).await?;
            // The column names, once per statement, shared by its rows.
            let names: std::sync::Arc<[std::sync::Arc<str>]> = rows
                .first()
                .map(|row| row.columns().iter().map(|c| c.name().into()).collect())
                .unwrap_or_default();
            rows.iter().map(|row| decode(row, &names, cols)).collect()
        }

        async fn execute<'e>(
            executor: impl sqlx::Executor<'e, Database = $sqlx>,
            sql: &str,
            params: &[$crate::db::Value],
        ) -> $crate::Result<u64> {
            let done = bind(sqlx::query(sql), params).execute(executor).await?;
            Ok(done.rows_affected())
        }

        #[async_trait::async_trait]
        impl $crate::db::Db for $db {
            type Tx = sqlx::Transaction<'static, $sqlx>;

            fn backend(&self) -> $crate::Backend {
                $backend
            }

            fn dialect(&self) -> $crate::db::Dialect {
                $dialect
            }

            async fn migrate(&self) -> $crate::Result<()> {
                MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn fetch(
                &self,
                sql: &str,
                params: &[$crate::db::Value],
                cols: &[$crate::db::Col],
            ) -> $crate::Result<Vec<$crate::db::Row>> {
                fetch(&self.pool, sql, params, cols).await
            }

            async fn execute(
                &self,
                sql: &str,
                params: &[$crate::db::Value],
            ) -> $crate::Result<u64> {
                execute(&self.pool, sql, params).await
            }

            async fn begin(&self) -> $crate::Result<Self::Tx> {
                Ok(self.pool.begin().await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::db::DbTx for sqlx::Transaction<'static, $sqlx> {
            async fn fetch(
                &mut self,
                sql: &str,
                params: &[$crate::db::Value],
                cols: &[$crate::db::Col],
            ) -> $crate::Result<Vec<$crate::db::Row>> {
                fetch(&mut **self, sql, params, cols).await
            }

            async fn execute(
                &mut self,
                sql: &str,
                params: &[$crate::db::Value],
            ) -> $crate::Result<u64> {
                execute(&mut **self, sql, params).await
            }

            async fn commit(self) -> $crate::Result<()> {
                sqlx::Transaction::commit(self).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use sqlx_db;
