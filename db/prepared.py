"""Queries on the hot path with their SQL made once, not rebuilt by the ORM every time.

peewee builds every query from an expression tree: 0.2-0.9 ms for a simple join,
against 0.02 ms to run it on SQLite. Each inbound mail ran seven such queries, a third
of its processing time. Here the statement text is made once per database engine and
only the values change.
"""
from __future__ import annotations

from . import database, memo


def prepared_insert(model):
    """A function that inserts one `model` row from keyword values and returns it with its
    id, as `Model.create` does (fields not given get their model default)."""
    fields = [field for field in model._meta.sorted_fields if field is not model._meta.primary_key]
    statements: dict[type, str] = {}

    def insert(**values):
        engine = database.obj
        sql = statements.get(type(engine))
        if sql is None:
            sql = statements[type(engine)] = _statement(engine, model, fields)
        row = model(**values)
        data = row.__data__
        cursor = database.execute_sql(sql, [field.db_value(data.get(field.name)) for field in fields])
        row.id = cursor.fetchone()[0] if engine.returning_clause else cursor.lastrowid
        row._dirty.clear()
        return row

    return insert


def _statement(engine, model, fields) -> str:
    open_quote, close_quote = engine.quote[0], engine.quote[-1]

    def name(text: str) -> str:
        return f"{open_quote}{text}{close_quote}"

    columns = ", ".join(name(field.column_name) for field in fields)
    marks = ", ".join([engine.param] * len(fields))
    sql = f"INSERT INTO {name(model._meta.table_name)} ({columns}) VALUES ({marks})"
    if engine.returning_clause:
        sql += f" RETURNING {name(model._meta.primary_key.column_name)}"
    return sql


# Stand-ins for the values while the SQL is made: integers no real value takes, so that
# integer, text and date fields all accept them (text fields store their str()).
_MARK = -918_273_645


class Prepared:
    """The query `build(*values)` makes, with its SQL made once per engine. Values are
    passed as the database stores them: ids for foreign keys, lower-cased addresses."""

    def __init__(self, build, arity: int, reads: tuple[str, ...] = ()):
        """`reads`: the tables the query reads, when its answers may be kept for the rest
        of a write transaction (memo.py)."""
        self.build, self.arity, self.reads = build, arity, tuple(reads)
        self.compiled: dict[type, tuple[str, list]] = {}
        # Per (engine, model): each result column's field name and converter, or None
        # when a column is not a field of the model (then peewee's raw query reads it).
        self.readers: dict[tuple[type, type], list | None] = {}

    def sql(self, *values) -> tuple[str, list]:
        engine = database.obj
        entry = self.compiled.get(type(engine))
        if entry is None:
            marks = [_MARK - i for i in range(self.arity)]
            sql, params = self.build(*marks).sql()
            slots = []
            for param in params:
                index = next((i for i, mark in enumerate(marks) if param in (mark, str(mark))), None)
                slots.append((index, param))
            entry = self.compiled[type(engine)] = (sql, slots)
        sql, slots = entry
        return sql, [values[index] if index is not None else param for index, param in slots]

    def rows(self, model, *values) -> list:
        """The rows as `model` instances, as `model.raw` makes them; without the cursor
        wrapper peewee sets up for every query, a tenth of a millisecond each time."""
        if not self.reads:
            return self._rows(model, values)
        key = (self, model, values)
        kept = memo.get(self.reads, key)
        if kept is None:
            found = self._rows(model, values)
            memo.put(self.reads, key, [dict(row.__data__) for row in found])
            return found
        return [_instance(model, dict(data)) for data in kept]

    def _rows(self, model, values) -> list:
        sql, params = self.sql(*values)
        key = (type(database.obj), model)
        if self.readers.get(key, True) is None:
            return list(model.raw(sql, *params))
        cursor = database.execute_sql(sql, params)
        if key not in self.readers:
            fields = [model._meta.columns.get(column[0]) for column in cursor.description]
            # `is`, not `in`: comparing a field makes an expression, and expressions are true.
            self.readers[key] = (None if any(field is None for field in fields) else
                                 [(field.name, field.python_value) for field in fields])
        reader = self.readers[key]
        if reader is None:
            return list(model.raw(sql, *params))
        return [_instance(model, {name: convert(value) if value is not None else None
                                  for (name, convert), value in zip(reader, row)})
                for row in cursor.fetchall()]

    def first(self, *values) -> tuple | None:
        """The first row as a tuple of stored values, or None."""
        sql, params = self.sql(*values)
        return database.execute_sql(sql, params).fetchone()

    def scalar(self, *values):
        key = (self, values)
        if self.reads:
            kept = memo.get(self.reads, key)
            if kept is not None:
                return kept[0]
        sql, params = self.sql(*values)
        row = database.execute_sql(sql, params).fetchone()
        value = row[0] if row else None
        if self.reads:
            memo.put(self.reads, key, (value,))
        return value

    def execute(self, *values) -> int:
        sql, params = self.sql(*values)
        return database.execute_sql(sql, params).rowcount


def _instance(model, data: dict):
    instance = model(__no_default__=1)
    instance.__data__ = data
    return instance


_BY_ID: dict[type, Prepared] = {}


def by_id(model, row_id):
    """`model.get_by_id(row_id)` with its SQL made once: the ledger and the receipts look
    accounts, members and limits up by id a dozen times for each payment (and within a
    write transaction only the first of those reaches the database: memo.py)."""
    query = _BY_ID.get(model)
    if query is None:
        query = _BY_ID[model] = Prepared(lambda mark: model.select().where(model._meta.primary_key == mark), 1,
                                         reads=[model._meta.table_name])
    found = query.rows(model, row_id)
    if not found:
        raise model.DoesNotExist(f"{model.__name__} {row_id} does not exist")
    return found[0]
